import Foundation
import PuenteCore

/// What an SDMX structure message says about one dataflow: the flow, its data structure definition
/// (dimensions with their code lists, attributes), its concepts and code lists. Each of Puente's
/// dataflows describes itself this way, and one writer turns any set of them into one message, so the
/// flows share code lists (`CL_SEX`, `CL_AGE`, `CL_AREA`) and cannot drift apart in form.
public struct SDMXStructure: Sendable {
    public struct Component: Sendable {
        public var id: String
        public var name: (es: String, en: String)
        /// Nil for an uncoded (text) attribute.
        public var codelist: String?
        /// Attributes only: whether every observation carries it.
        public var mandatory: Bool

        public init(id: String, name: (es: String, en: String), codelist: String?, mandatory: Bool = false) {
            self.id = id
            self.name = name
            self.codelist = codelist
            self.mandatory = mandatory
        }
    }

    public var flowID: String
    public var dsdID: String
    public var conceptSchemeID: String
    public var flowName: (es: String, en: String)
    public var dsdName: (es: String, en: String)
    public var conceptSchemeName: (es: String, en: String)
    /// In key order, without TIME_PERIOD (always last).
    public var dimensions: [Component]
    /// Attached to the observation value.
    public var attributes: [Component]
    public var codelists: [CodeList]

    public init(
        flowID: String, dsdID: String, conceptSchemeID: String, flowName: (es: String, en: String),
        dsdName: (es: String, en: String), conceptSchemeName: (es: String, en: String), dimensions: [Component],
        attributes: [Component], codelists: [CodeList]
    ) {
        self.flowID = flowID
        self.dsdID = dsdID
        self.conceptSchemeID = conceptSchemeID
        self.flowName = flowName
        self.dsdName = dsdName
        self.conceptSchemeName = conceptSchemeName
        self.dimensions = dimensions
        self.attributes = attributes
        self.codelists = codelists
    }

    public static let agency = SDMXFlow.agency
    public static let version = SDMXFlow.version

    public var flowReference: String { "\(Self.agency):\(flowID)(\(Self.version))" }
    public var dimensionIDs: [String] { dimensions.map(\.id) }

    /// Whether an SDMX REST structure query's id names this flow, its DSD or its concept scheme (or
    /// `all`/`latest`, which name every flow).
    public func answers(id: String) -> Bool {
        ["all", "latest", flowID, dsdID, conceptSchemeID].contains(id)
            || codelists.contains { $0.id == id }
    }

    /// The SDMX-ML 2.1 structure message of `structures`: every dataflow, code list (once), concept
    /// scheme and DSD.
    public static func message(_ structures: [SDMXStructure], prepared: Date = Date()) -> String {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        func names(_ es: String, _ en: String?) -> String {
            "<com:Name xml:lang=\"en\">\(esc(en ?? es))</com:Name><com:Name xml:lang=\"es\">\(esc(es))</com:Name>"
        }
        let a = agency, v = version
        func urn(_ package: String, _ cls: String, _ id: String) -> String {
            "urn:sdmx:org.sdmx.infomodel.\(package).\(cls)=\(a):\(id)(\(v))"
        }
        func enumeration(_ list: String) -> String {
            "<str:LocalRepresentation><str:Enumeration><Ref id=\"\(list)\" version=\"\(v)\" agencyID=\"\(a)\" class=\"Codelist\" package=\"codelist\"/></str:Enumeration></str:LocalRepresentation>"
        }
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<mes:Structure xmlns:mes=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message\" "
        x += "xmlns:str=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure\" "
        x += "xmlns:com=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common\">\n"
        x += "<mes:Header><mes:ID>PUENTE_STRUCTURE</mes:ID><mes:Test>false</mes:Test><mes:Prepared>"
        x +=
            ISO8601DateFormatter().string(from: prepared)
            + "</mes:Prepared><mes:Sender id=\"\(a)\"/></mes:Header>\n<mes:Structures>\n<str:Dataflows>"
        for s in structures {
            x +=
                "<str:Dataflow id=\"\(s.flowID)\" agencyID=\"\(a)\" version=\"\(v)\" isFinal=\"true\" urn=\"\(urn("datastructure", "Dataflow", s.flowID))\">"
            x += names(s.flowName.es, s.flowName.en)
            x +=
                "<str:Structure><Ref id=\"\(s.dsdID)\" version=\"\(v)\" agencyID=\"\(a)\" class=\"DataStructure\" package=\"datastructure\"/></str:Structure>"
            x += "</str:Dataflow>"
        }
        x += "</str:Dataflows>\n<str:Codelists>\n"
        var written = Set<String>()
        for list in structures.flatMap(\.codelists) where written.insert(list.id).inserted {
            x +=
                "<str:Codelist id=\"\(list.id)\" agencyID=\"\(a)\" version=\"\(v)\" isFinal=\"true\" urn=\"\(urn("codelist", "Codelist", list.id))\">"
            x += names(list.name, list.name)
            for code in list.codes {
                x += "<str:Code id=\"\(esc(code.id))\">\(names(code.name, code.nameEN))</str:Code>"
            }
            x += "</str:Codelist>\n"
        }
        x += "</str:Codelists>\n<str:Concepts>"
        let common: [(String, (String, String))] = [
            ("TIME_PERIOD", ("Periodo", "Time period")), ("OBS_VALUE", ("Valor", "Observation value")),
        ]
        for s in structures {
            x +=
                "<str:ConceptScheme id=\"\(s.conceptSchemeID)\" agencyID=\"\(a)\" version=\"\(v)\" isFinal=\"true\" urn=\"\(urn("conceptscheme", "ConceptScheme", s.conceptSchemeID))\">"
            x += names(s.conceptSchemeName.es, s.conceptSchemeName.en)
            for (id, name) in s.dimensions.map({ ($0.id, $0.name) }) + common + s.attributes.map({ ($0.id, $0.name) }) {
                x += "<str:Concept id=\"\(id)\">\(names(name.0, name.1))</str:Concept>"
            }
            x += "</str:ConceptScheme>"
        }
        x += "</str:Concepts>\n<str:DataStructures>"
        for s in structures {
            func conceptRef(_ id: String) -> String {
                "<str:ConceptIdentity><Ref id=\"\(id)\" maintainableParentID=\"\(s.conceptSchemeID)\" maintainableParentVersion=\"\(v)\" agencyID=\"\(a)\" class=\"Concept\" package=\"conceptscheme\"/></str:ConceptIdentity>"
            }
            x +=
                "<str:DataStructure id=\"\(s.dsdID)\" agencyID=\"\(a)\" version=\"\(v)\" isFinal=\"true\" urn=\"\(urn("datastructure", "DataStructure", s.dsdID))\">"
            x +=
                names(s.dsdName.es, s.dsdName.en)
                + "<str:DataStructureComponents><str:DimensionList id=\"DimensionDescriptor\">"
            for (i, d) in s.dimensions.enumerated() {
                x +=
                    "<str:Dimension id=\"\(d.id)\" position=\"\(i + 1)\">\(conceptRef(d.id))\(d.codelist.map(enumeration) ?? "")</str:Dimension>"
            }
            x +=
                "<str:TimeDimension id=\"TIME_PERIOD\" position=\"\(s.dimensions.count + 1)\">\(conceptRef("TIME_PERIOD"))"
            x +=
                "<str:LocalRepresentation><str:TextFormat textType=\"ObservationalTimePeriod\"/></str:LocalRepresentation></str:TimeDimension>"
            x += "</str:DimensionList><str:AttributeList id=\"AttributeDescriptor\">"
            for attribute in s.attributes {
                x +=
                    "<str:Attribute id=\"\(attribute.id)\" assignmentStatus=\"\(attribute.mandatory ? "Mandatory" : "Conditional")\">\(conceptRef(attribute.id))"
                x +=
                    attribute.codelist.map(enumeration)
                    ?? "<str:LocalRepresentation><str:TextFormat textType=\"String\"/></str:LocalRepresentation>"
                x +=
                    "<str:AttributeRelationship><str:PrimaryMeasure><Ref id=\"OBS_VALUE\"/></str:PrimaryMeasure></str:AttributeRelationship></str:Attribute>"
            }
            x +=
                "</str:AttributeList><str:MeasureList id=\"MeasureDescriptor\"><str:PrimaryMeasure id=\"OBS_VALUE\">\(conceptRef("OBS_VALUE"))"
            x +=
                "<str:LocalRepresentation><str:TextFormat textType=\"Double\"/></str:LocalRepresentation></str:PrimaryMeasure></str:MeasureList>"
            x += "</str:DataStructureComponents></str:DataStructure>"
        }
        return x + "</str:DataStructures>\n</mes:Structures>\n</mes:Structure>\n"
    }
}
