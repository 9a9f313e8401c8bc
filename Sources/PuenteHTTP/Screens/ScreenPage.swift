import Foundation
import PuenteAccess
import PuenteCore

/// The frame of a work screen: the header with the screens the account's role has, who is logged in,
/// the language switch, and a notice or an error above the content. Plain HTML and the dashboard's
/// stylesheet: no script, nothing from outside, a few kilobytes over a slow line.
struct ScreenPage {
    enum Screen: String, CaseIterable {
        case cases = "/cases", reception = "/reception", followUps = "/followups", partner = "/partner"

        var title: Bilingual {
            switch self {
            case .cases: Bilingual("Casos", "Cases")
            case .reception: Bilingual("Registrar un retorno", "Register a return")
            case .followUps: Bilingual("Seguimientos de la semana", "Follow-ups this week")
            case .partner: Bilingual("Remisiones recibidas", "Referrals received")
            }
        }

        var permission: Permission {
            switch self {
            case .cases, .reception, .followUps: .cases
            case .partner: .partnerReferrals
            }
        }
    }

    /// What a page says above its content after an action: done, or refused and why.
    struct Notice {
        var text: String
        var isError: Bool
    }

    let state: DashboardState
    let identity: Identity?

    init(language: Language, identity: Identity?) {
        var state = DashboardState()
        state.language = language
        self.state = state
        self.identity = identity
    }

    func t(_ es: String, _ en: String) -> String { state.t(es, en) }
    func t(_ text: Bilingual) -> String { state.t(text) }

    /// A link to a path of this site in the page's language.
    func link(_ path: String, _ query: [(String, String)] = []) -> String {
        let items = query + (state.language == .en ? [("lang", "en")] : [])
        guard !items.isEmpty else { return path }
        let separator = path.contains("?") ? "&" : "?"
        return path + separator + items.map { "\($0.0)=\(URLText.encode($0.1))" }.joined(separator: "&")
    }

    /// The hidden fields every form posts: the session's CSRF token and the page's language.
    var formFields: String {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(identity?.credential.csrfToken ?? ""))\">"
            + "<input type=\"hidden\" name=\"lang\" value=\"\(state.language.rawValue)\">"
    }

    func render(title: String, current: Screen?, path: String, notice: Notice? = nil, body: String) -> String {
        let role = identity?.role
        var nav = Screen.allCases.filter { role?.holds($0.permission) == true }.map { screen in
            "<a href=\"\(HTML.escape(link(screen.rawValue)))\"\(screen == current ? " aria-current=\"page\"" : "")>\(t(screen.title))</a>"
        }
        if role?.holds(.protectedStatistics) == true {
            nav.append("<a href=\"\(HTML.escape(link("/")))\">\(t("Estadísticas", "Statistics"))</a>")
        }
        let other: Language = state.language == .es ? .en : .es
        let switchPath = path + (other == .en ? (path.contains("?") ? "&" : "?") + "lang=en" : "")
        let notice = notice.map {
            $0.isError
                ? "<p class=\"error\" id=\"notice\" role=\"alert\">\(HTML.escape($0.text))</p>"
                : "<p class=\"done\" id=\"notice\" role=\"status\">\(HTML.escape($0.text))</p>"
        }
        return """
            <!doctype html><html lang="\(state.language.rawValue)"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Puente — \(HTML.escape(title))</title>
            <link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/dashboard.css"></head><body class="screens">
            <header><strong>Puente</strong><nav>\(nav.joined())</nav>\(DashboardPages.account(identity, next: path, state: state))\
            <a id="lang" hreflang="\(other.rawValue)" href="\(HTML.escape(switchPath))">\(other == .es ? "Español" : "English")</a></header>
            <main><h1>\(HTML.escape(title))</h1>
            \(notice ?? "")
            \(body)
            </main></body></html>

            """
    }

    // MARK: Pieces

    func table(id: String, headers: [String], rows: [[String]], empty: Bilingual) -> String {
        guard !rows.isEmpty else { return "<p class=\"none\" id=\"\(id)-none\">\(t(empty))</p>" }
        // Cells are HTML already (links); the caller escapes text.
        return "<table id=\"\(id)\"><thead><tr>" + headers.map { "<th scope=\"col\">\(HTML.escape($0))</th>" }.joined()
            + "</tr></thead><tbody>"
            + rows.map { row in
                "<tr><th scope=\"row\">\(row.first ?? "")</th>" + row.dropFirst().map { "<td>\($0)</td>" }.joined()
                    + "</tr>"
            }.joined() + "</tbody></table>"
    }

    /// Open items in a table, closed ones folded under it: what a worklist shows.
    func openAndClosed(
        ids: (open: String, closed: String), headers: [String], open: [[String]], closed: [[String]],
        titles: (open: Bilingual, closed: Bilingual), empty: Bilingual
    ) -> String {
        "<h2>\(t(titles.open)) (\(open.count))</h2>"
            + table(id: ids.open, headers: headers, rows: open, empty: empty)
            + "<details><summary>\(t(titles.closed)) (\(closed.count))</summary>"
            + table(id: ids.closed, headers: headers, rows: closed, empty: Bilingual("Ninguno.", "None."))
            + "</details>"
    }

    func select(
        _ name: String, _ label: String, _ options: [(String, String)], selected: String? = nil,
        required: Bool = true
    ) -> String {
        "<label>\(HTML.escape(label)) <select name=\"\(name)\"\(required ? " required" : "")>"
            + options.map {
                "<option value=\"\(HTML.escape($0.0))\"\($0.0 == selected ? " selected" : "")>\(HTML.escape($0.1))</option>"
            }.joined() + "</select></label>"
    }

    func input(
        _ name: String, _ label: String, type: String = "text", value: String? = nil, required: Bool = false,
        extra: String = ""
    ) -> String {
        "<label>\(HTML.escape(label)) <input name=\"\(name)\" type=\"\(type)\""
            + (value.map { " value=\"\(HTML.escape($0))\"" } ?? "") + (required ? " required" : "") + extra
            + "></label>"
    }

    func textarea(_ name: String, _ label: String, value: String? = nil, required: Bool = false) -> String {
        "<label>\(HTML.escape(label)) <textarea name=\"\(name)\" rows=\"3\"\(required ? " required" : "")>"
            + HTML.escape(value ?? "") + "</textarea></label>"
    }

    func checkboxes(_ name: String, _ legend: String, _ options: [(String, String)], checked: Set<String> = [])
        -> String
    {
        "<fieldset><legend>\(HTML.escape(legend))</legend>"
            + options.map {
                "<label class=\"check\"><input type=\"checkbox\" name=\"\(name)\" value=\"\(HTML.escape($0.0))\"\(checked.contains($0.0) ? " checked" : "")> \(HTML.escape($0.1))</label>"
            }.joined() + "</fieldset>"
    }

    /// A form posting `action` (and hidden `fields`) to `path`.
    func form(
        _ path: String, action: String, id: String? = nil, hidden: [(String, String)] = [], button: String,
        content: String = ""
    ) -> String {
        "<form method=\"post\" action=\"\(HTML.escape(path))\" class=\"act\"\(id.map { " id=\"\($0)\"" } ?? "")>"
            + formFields + "<input type=\"hidden\" name=\"action\" value=\"\(action)\">"
            + hidden.map { "<input type=\"hidden\" name=\"\($0.0)\" value=\"\(HTML.escape($0.1))\">" }.joined()
            + content + "<button type=\"submit\">\(HTML.escape(button))</button></form>"
    }

    func number(_ value: Double?, decimals: Int = 2) -> String {
        value.map { String(format: "%.\(decimals)f", $0) } ?? "—"
    }
}
