import Foundation
import NIOSSL
import PostgresNIO
import PuenteCore

extension PostgresStore {
    /// TLS to the server as libpq's `sslmode` asks, so a URL works the same for Puente, psql and pg_dump:
    /// `disable` (never), `allow` and `prefer` (when the server offers it; the default), `require`
    /// (always, the server's certificate checked only when `sslrootcert` names a CA, as libpq does),
    /// `verify-ca` (always, its chain checked against `sslrootcert`, or the system's roots) and
    /// `verify-full` (and the host name too). Anything else is refused by name.
    /// The same, for a single connection of its own (the watchdog's).
    static func connectionTLS(_ query: [URLQueryItem]) throws -> PostgresConnection.Configuration.TLS {
        let (mode, configuration) = try tlsSetting(query)
        switch mode {
        case .disable: return .disable
        case .prefer: return .prefer(try NIOSSLContext(configuration: configuration))
        case .require: return .require(try NIOSSLContext(configuration: configuration))
        }
    }

    static func tls(_ query: [URLQueryItem]) throws -> PostgresClient.Configuration.TLS {
        let (mode, configuration) = try tlsSetting(query)
        switch mode {
        case .disable: return .disable
        case .prefer: return .prefer(configuration)
        case .require: return .require(configuration)
        }
    }

    enum TLSMode { case disable, prefer, require }

    static func tlsSetting(_ query: [URLQueryItem]) throws -> (TLSMode, TLSConfiguration) {
        var values: [String: String] = [:]
        for item in query { values[item.name] = item.value ?? "" }
        for name in values.keys where !["sslmode", "sslrootcert", "application_name"].contains(name) {
            throw PuenteError(
                .invalidArgument,
                "The PostgreSQL URL's parameter \(name) is not read by Puente: it takes sslmode and sslrootcert.")
        }
        let mode = values["sslmode"] ?? "prefer"
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let path = values["sslrootcert"] {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw PuenteError(
                    .invalidArgument, "sslrootcert: the CA certificate file cannot be read; check its path.")
            }
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
            } catch {
                throw PuenteError(.invalidArgument, "sslrootcert: expected a CA certificate in PEM format.")
            }
        }
        switch mode {
        case "disable": return (.disable, configuration)
        case "allow", "prefer":
            configuration.certificateVerification = .none
            return (.prefer, configuration)
        case "require":
            configuration.certificateVerification = values["sslrootcert"] == nil ? .none : .noHostnameVerification
            return (.require, configuration)
        case "verify-ca":
            configuration.certificateVerification = .noHostnameVerification
            return (.require, configuration)
        case "verify-full":
            configuration.certificateVerification = .fullVerification
            return (.require, configuration)
        default:
            throw PuenteError(
                .invalidArgument, "sslmode: expected disable, allow, prefer, require, verify-ca or verify-full.")
        }
    }
}
