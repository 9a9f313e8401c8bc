/// A store holding events, access records, persons, consent, agreements and what was exchanged: what the
/// server and the commands open.
public protocol PuenteStore: EventStore, AccessStore, PersonStore, ConsentStore, AgreementStore, ExchangeStore,
    CaseStore
{}
