import PuenteCore

/// An amount of money, exact: whole minor units (cents) of an ISO 4217 currency. Never a floating-point
/// number, so a ledger reconciles to the cent.
public struct Money: Hashable, Codable, Sendable, Comparable, CustomStringConvertible {
    public var minorUnits: Int64
    public var currency: String

    /// Currencies of the region's programmes, with their minor-unit digits.
    public static let currencies: [String: Int] = ["USD": 2, "GTQ": 2, "HNL": 2, "MXN": 2, "EUR": 2]

    public init(minorUnits: Int64, currency: String) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Parses `1500`, `1500.5` or `1500.50` in `currency`; refuses more decimals than the currency has,
    /// signs, separators and anything else, naming the field.
    public init(parsing text: String, currency: String, field: String) throws {
        guard let digits = Self.currencies[currency] else {
            throw PuenteError(
                .invalidArgument,
                "currency: expected one of " + Self.currencies.keys.sorted().joined(separator: ", ") + ".")
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = parts.first, !whole.isEmpty, whole.count <= 12,
            whole.allSatisfy({ $0.isASCII && $0.isNumber }),
            parts.count == 1
                || (1...digits).contains(parts[1].count) && parts[1].allSatisfy({ $0.isASCII && $0.isNumber })
        else {
            throw PuenteError(
                .invalidArgument, "\(field): expected an amount such as 1500 or 1500.50 (at most \(digits) decimals).")
        }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        fraction += String(repeating: "0", count: digits - fraction.count)
        self.init(minorUnits: Int64(whole)! * Self.scale(digits) + (Int64(fraction) ?? 0), currency: currency)
    }

    static func scale(_ digits: Int) -> Int64 { (0..<digits).reduce(1) { acc, _ in acc * 10 } }

    public var description: String {
        let digits = Self.currencies[currency] ?? 2
        let scale = Self.scale(digits)
        let fraction = String(minorUnits % scale)
        return "\(minorUnits / scale).\(String(repeating: "0", count: digits - fraction.count))\(fraction) \(currency)"
    }

    public static func < (a: Money, b: Money) -> Bool { a.minorUnits < b.minorUnits }

    public static func + (a: Money, b: Money) -> Money {
        precondition(a.currency == b.currency, "adding amounts of different currencies")
        return Money(minorUnits: a.minorUnits + b.minorUnits, currency: a.currency)
    }

    public static func zero(_ currency: String) -> Money { Money(minorUnits: 0, currency: currency) }
}

/// A seed grant for a returnee's business, from the application to its tranches and monitoring.
///
/// applied → reviewed (scored) → approved or rejected → tranches scheduled → each tranche requested,
/// approved by someone else, disbursed → a monitoring visit before the next tranche → the business's
/// status at 6 and 12 months. Stored in clear (amounts, dates, who); the business plan is sealed apart.
public struct Grant: Hashable, Codable, Sendable {
    public enum Status: String, CaseIterable, Codable, Sendable {
        case applied, reviewed, approved, rejected
    }

    public enum TrancheStatus: String, CaseIterable, Codable, Sendable {
        case scheduled, requested, approved, disbursed
    }

    public enum BusinessStatus: String, CaseIterable, Codable, Sendable {
        case notStarted = "not_started"
        case operating
        case struggling
        case closed
    }

    public struct Tranche: Hashable, Codable, Sendable {
        public var number: Int
        public var amount: Money
        /// What must be true before it is paid ("premises rented").
        public var condition: String?
        public var status: TrancheStatus
        public var requestedBy: String?
        public var approvedBy: String?
        public var disbursedOn: CivilDate?
        /// A cash transfer's reference, or the in-kind items delivered.
        public var reference: String?
        public var inKind: [String]?

        public init(number: Int, amount: Money, condition: String?, status: TrancheStatus = .scheduled) {
            self.number = number
            self.amount = amount
            self.condition = condition
            self.status = status
        }
    }

    public struct Visit: Hashable, Codable, Sendable {
        public var day: CivilDate
        public var by: String
        public var business: BusinessStatus

        public init(day: CivilDate, by: String, business: BusinessStatus) {
            self.day = day
            self.by = by
            self.business = business
        }
    }

    public var status: Status
    public var requested: Money
    public var appliedOn: CivilDate
    public var appliedBy: String
    /// The review's score, 0 to 100, and who gave it.
    public var reviewScore: Int?
    public var reviewedBy: String?
    public var approved: Money?
    public var decidedBy: String?
    public var decidedOn: CivilDate?
    public var rejectionReason: String?
    public var tranches: [Tranche]
    public var visits: [Visit]

    public init(requested: Money, appliedOn: CivilDate, appliedBy: String) {
        status = .applied
        self.requested = requested
        self.appliedOn = appliedOn
        self.appliedBy = appliedBy
        tranches = []
        visits = []
    }

    /// What was paid out: the disbursed tranches.
    public var disbursed: Money {
        tranches.filter { $0.status == .disbursed }.reduce(.zero(requested.currency)) { $0 + $1.amount }
    }

    /// The business's status at the visit nearest `months` after the first disbursement, within two
    /// months of it.
    public func business(atMonths months: Int) -> BusinessStatus? {
        guard let start = tranches.compactMap(\.disbursedOn).min() else { return nil }
        let target = start.adding(months: months)
        return visits.filter { abs($0.day.daysSinceEpoch - target.daysSinceEpoch) <= 61 }
            .min {
                abs($0.day.daysSinceEpoch - target.daysSinceEpoch) < abs($1.day.daysSinceEpoch - target.daysSinceEpoch)
            }?
            .business
    }
}
