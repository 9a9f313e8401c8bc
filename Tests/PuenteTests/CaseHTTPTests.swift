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

@Suite("Reintegration screens")
struct CaseScreenTests {
    @Test(
        "The screens act through the services: refusals come back on the page, typed text comes out escaped, a partner sees only the referred fields, forms need the session's CSRF token",
        arguments: StoreKind.available)
    func screens(kind: StoreKind) async throws {
        let (store, _) = try await ReintegrationTests().prepared(kind)
        let access = AccessService(store: store, hasher: PasswordHasher(logCost: 10))
        var issued: [String: String] = [:]
        for name in ["carla", "sara", "pablo", "oscar"] {
            issued[name] = try await access.createToken(
                username: name, label: "test", days: 1, by: .commandOperator("test")
            ).1
        }
        let tokens = issued
        try await ReferralService(store: store).register(
            Partner(id: "SV-INSAFORP", name: "INSAFORP", services: [.vocationalTraining]), by: ReintegrationTests.sup)
        try await access.createUser(
            username: "cora", role: .caseWorker, password: "cora's long password", organisation: "SV-CAIM",
            by: .commandOperator("test"))
        guard
            case .success(let session, let csrf, _) = try await access.login(
                username: "cora", password: "cora's long password", address: nil)
        else { Issue.record("no session"); return }
        let app = Application(router: PuenteServer.router(store: store))
        try await app.test(.router) { client in
            func call(_ method: HTTPRequest.Method, _ uri: String, as who: String, form: String? = nil) async throws
                -> (HTTPResponse.Status, String, String?)
            {
                try await client.execute(
                    uri: uri, method: method,
                    headers: [
                        .authorization: "Bearer \(tokens[who]!)", .contentType: "application/x-www-form-urlencoded",
                    ],
                    body: form.map { ByteBuffer(string: $0) }
                ) { ($0.status, String(buffer: $0.body), $0.headers[.location]) }
            }
            let opened = try await CaseService(store: store).open(
                .init(agency: "TEST", recordKey: "r2"), by: ReintegrationTests.cw)
            let path = "/cases/\(opened.id)"
            // A move the lifecycle refuses: the case page again, with the allowed next statuses, and 409.
            var (status, html, location) = try await call(.post, path, as: "carla", form: "action=move&to=assessed")
            #expect(status == .conflict && html.contains("id=\"notice\"") && html.contains("screened, closed"))
            #expect(html.contains("<h1>Caso #\(opened.id) — Ana María Pérez López</h1>"))
            // Screening needs consent; with it, the form moves the case and leads back with a notice code.
            (status, _, _) = try await call(.post, path, as: "carla", form: "action=move&to=screened&version=1")
            #expect(status == .conflict)
            (status, _, location) = try await call(
                .post, path, as: "carla", form: "action=consent&purpose=reintegration")
            #expect(status == .seeOther && location == "\(path)?done=consent")
            (status, _, location) = try await call(
                .post, path, as: "carla",
                form: "action=move&to=screened&version=1&vulnerability=health&vulnerability=mental_health&lang=en")
            #expect(status == .seeOther && location == "\(path)?done=moved&lang=en")
            #expect(try await store.caseFile(id: opened.id)?.details.vulnerabilities == [.health, .mentalHealth])
            // A stale form (read at version 1) is refused rather than written over the newer case.
            (status, html, _) = try await call(
                .post, path, as: "carla", form: "action=move&to=assessed&version=1&skills=a&intentions=b")
            #expect(status == .conflict)
            // What people type comes out escaped.
            let hostile = "<script>alert(1)</script>"
            (status, _, _) = try await call(
                .post, path, as: "carla",
                form: "action=move&to=assessed&version=2&skills="
                    + hostile.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! + "&intentions=stay")
            #expect(status == .seeOther)
            (status, html, _) = try await call(.get, path + "?lang=en&done=moved", as: "carla")
            #expect(status == .ok && !html.contains(hostile) && html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(html.contains("<html lang=\"en\">") && html.contains("Case status updated."))
            // Another office's case worker cannot tell the case exists; a partner has no case screens.
            (status, html, _) = try await call(.get, path, as: "oscar")
            #expect(status == .notFound && !html.contains("Ana María"))
            (status, _, _) = try await call(.get, path, as: "pablo")
            #expect(status == .forbidden)

            // A referral without the referral consent is refused; with it, the partner's screen shows the
            // referred fields and nothing else of the case.
            (status, html, _) = try await call(
                .post, path, as: "carla",
                form: "action=refer&partner=SV-INSAFORP&service=vocational_training&field=given_names&field=phone")
            #expect(status == .conflict && html.contains("referral consent"))
            (status, _, _) = try await call(
                .post, path, as: "carla", form: "action=consent&purpose=referral&recipient=SV-INSAFORP")
            (status, _, location) = try await call(
                .post, path, as: "carla",
                form: "action=refer&partner=SV-INSAFORP&service=vocational_training&field=given_names")
            #expect(status == .seeOther && location == "\(path)?done=referred")
            let referral = try await store.referrals(ReferralQuery(caseID: opened.id))[0]
            (status, html, _) = try await call(.get, "/partner", as: "pablo")
            #expect(status == .ok && html.contains("/partner/\(referral.id)"))
            (status, html, _) = try await call(.get, "/partner/\(referral.id)", as: "pablo")
            #expect(status == .ok && html.contains("data-field=\"given_names\">Ana María<"))
            for outside in ["Pérez", "01234567", "San Salvador", "alert", "data-field=\"phone\""] {
                #expect(!html.contains(outside), "\(outside) on a partner's screen")
            }
            (status, _, location) = try await call(
                .post, "/partner/\(referral.id)", as: "pablo", form: "to=completed&reason=delivered")
            #expect(status == .conflict || status == .seeOther)
            (status, _, location) = try await call(.post, "/partner/\(referral.id)", as: "pablo", form: "to=accepted")
            #expect(status == .seeOther && location == "/partner/\(referral.id)?done=referral_updated")
            #expect(try await store.referral(id: referral.id)?.status == .accepted)
        }

        // With a session cookie, a form must carry the session's CSRF token.
        try await app.test(.router) { client in
            let cookie = "puente_session=\(session)"
            let opened = try await CaseService(store: store).open(
                .init(agency: "TEST", recordKey: "r3"), by: ReintegrationTests.cw)
            for (form, expected) in [
                ("action=consent&purpose=reintegration", HTTPResponse.Status.forbidden),
                ("action=consent&purpose=reintegration&csrf=\(csrf)", .seeOther),
            ] {
                let status = try await client.execute(
                    uri: "/cases/\(opened.id)", method: .post,
                    headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: form)
                ) { $0.status }
                #expect(status == expected)
            }
        }
        try await store.close()
    }
}
