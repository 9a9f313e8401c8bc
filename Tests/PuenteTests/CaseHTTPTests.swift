import Foundation
import Hummingbird
import HummingbirdTesting
import PuenteAccess
import PuenteCore
import PuenteHTTP
import PuenteServices
import PuenteTesting
import Testing

/// Reintegration over HTTP: the loop through the JSON API, and what a partner's responses hold.
@Suite("Reintegration over HTTP")
struct CaseHTTPTests {
    @Test(
        "Case worker and partner close the loop over the API; the partner's answers hold only the referred fields",
        arguments: StoreKind.available)
    func partnerSeesOnlyTheFieldSet(kind: StoreKind) async throws {
        let (store, _) = try await ReintegrationTests().prepared(kind)
        let access = AccessService(store: store, hasher: PasswordHasher(logCost: 10))
        var issued: [String: String] = [:]
        for name in ["carla", "sara", "pablo", "paula"] {
            issued[name] = try await access.createToken(
                username: name, label: "test", days: 1, by: .commandOperator("test")
            ).1
        }
        let tokens = issued
        let app = Application(router: PuenteServer.router(store: store))
        try await app.test(.router) { client in
            func call(_ method: HTTPRequest.Method, _ uri: String, as who: String, _ body: String? = nil) async throws
                -> (HTTPResponse.Status, String)
            {
                try await client.execute(
                    uri: uri, method: method,
                    headers: [.authorization: "Bearer \(tokens[who]!)", .contentType: "application/json"],
                    body: body.map { ByteBuffer(string: $0) }
                ) { ($0.status, String(buffer: $0.body)) }
            }
            func json(_ text: String) throws -> [String: Any] {
                try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
            }
            var (status, text) = try await call(
                .post, "/api/v1/cases", as: "carla", #"{"agency":"TEST","recordKey":"r2","phone":"7000-1111"}"#)
            #expect(status == .created)
            let caseID = try json(text)["id"] as! Int
            (status, _) = try await call(
                .post, "/api/v1/consents", as: "carla",
                #"{"agency":"TEST","recordKey":"r2","purpose":"referral","recipients":["SV-INSAFORP"]}"#)
            #expect(status == .created)
            (status, text) = try await call(
                .post, "/api/v1/partners", as: "sara",
                #"{"id":"SV-INSAFORP","name":"INSAFORP","services":["vocational_training"],"municipalities":[],"active":true}"#
            )
            #expect(status == .created)
            (status, text) = try await call(.post, "/api/v1/cases/\(caseID)/status", as: "carla", #"{"to":"assessed"}"#)
            #expect(status == .conflict && text.contains("screened, closed"))
            (status, text) = try await call(.post, "/api/v1/cases/\(caseID)/status", as: "carla", #"{"to":"nowhere"}"#)
            #expect(status == .badRequest && text.contains("to:"))
            (status, text) = try await call(
                .post, "/api/v1/referrals", as: "carla",
                #"{"caseId":\#(caseID),"partner":"SV-INSAFORP","service":"vocational_training","fields":["given_names","sex"]}"#
            )
            #expect(status == .created)
            let referralID = try json(text)["id"] as! Int

            // The partner: its inbox, the referred case with the named fields and nothing else.
            (status, text) = try await call(.get, "/api/v1/partner/referrals", as: "pablo")
            #expect(status == .ok && text.contains("\"id\":\(referralID)"))
            (status, text) = try await call(.get, "/api/v1/partner/referrals/\(referralID)", as: "pablo")
            #expect(status == .ok)
            let fields = try json(text)["fields"] as! [String: String]
            #expect(fields == ["given_names": "Ana María", "sex": "M"])
            for outside in ["Pérez", "7000-1111", "01234567", "SV-0614", "MEX", "r2"] {
                #expect(!text.contains(outside), "\(outside) in a partner's answer")
            }
            (status, _) = try await call(.get, "/api/v1/partner/referrals/\(referralID)", as: "paula")
            #expect(status == .notFound)
            (status, _) = try await call(.get, "/api/v1/cases/\(caseID)", as: "pablo")
            #expect(status == .forbidden)
            (status, text) = try await call(.get, "/api/v1/partner/referrals", as: "paula")
            #expect(status == .ok && text == "[]")

            // Accepted and completed by the partner; the case worker sees the outcome.
            for (to, reason) in [("accepted", ""), ("completed", #","reason":"delivered""#)] {
                (status, text) = try await call(
                    .post, "/api/v1/referrals/\(referralID)/status", as: "pablo", #"{"to":"\#(to)"\#(reason)}"#)
                #expect(status == .ok, "\(text)")
            }
            (status, text) = try await call(
                .post, "/api/v1/referrals/\(referralID)/status", as: "pablo", #"{"to":"cancelled","reason":"other"}"#)
            #expect(status == .forbidden)
            (status, text) = try await call(.get, "/api/v1/cases/\(caseID)", as: "carla")
            #expect(status == .ok && text.contains("\"status\":\"completed\"") && text.contains("7000-1111"))
            // Closed, the referral shows the partner no field.
            (status, text) = try await call(.get, "/api/v1/partner/referrals/\(referralID)", as: "pablo")
            #expect(try json(text)["fields"] as! [String: String] == [:])
            (status, text) = try await call(.get, "/api/v1/followups/due", as: "carla")
            #expect(status == .ok && text == "[]")
            // The programme's figures: protected, so the one case here is never shown as 1.
            (status, text) = try await call(.get, "/api/v1/programme/stats?measure=cases&by=status", as: "carla")
            #expect(status == .ok)
            let cells = (try json(text)["table"] as! [String: Any])["cells"] as! [[String: Any]]
            #expect(!cells.isEmpty && cells.allSatisfy { ["E", "Q"].contains($0["obsStatus"] as! String) })
            #expect(cells.allSatisfy { (($0["value"] as? Double) ?? 0) == 0 || ($0["value"] as! Double) >= 5 })
            (status, text) = try await call(.get, "/api/v1/programme/stats?measure=cases&by=partner", as: "carla")
            #expect(status == .badRequest && text.contains("cases is broken down by"))
            (status, _) = try await call(.get, "/api/v1/programme/stats?measure=cases", as: "pablo")
            #expect(status == .forbidden)
        }
        let trail = try await store.auditEntries(after: 0, limit: 1000)
        #expect(
            trail.contains {
                $0.actor == "pablo" && $0.action == "read_personal" && $0.target.contains("fields:given_names,sex")
            })
        try await store.close()
    }
}
