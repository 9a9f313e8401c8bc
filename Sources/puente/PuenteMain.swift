import ArgumentParser
import PuenteCLI

@main
struct PuenteMain {
    static func main() async {
        await PuenteCommand.main()
    }
}
