/// A store holding events, access records, persons and consent: what the server and the commands open.
public protocol PuenteStore: EventStore, AccessStore, PersonStore, ConsentStore {}
