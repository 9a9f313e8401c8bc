/// A store holding events, access records, persons, consent and agreements: what the server and the commands open.
public protocol PuenteStore: EventStore, AccessStore, PersonStore, ConsentStore, AgreementStore {}
