import Foundation
import PackagePlugin

/// Fixes the git commit a binary is built from into the binary itself, so a
/// result records the code that produced it rather than whatever checkout
/// the binary happens to be run from. Runs before every build; the generated
/// file is rewritten only when the commit or dirty state changed, so an
/// unchanged tree does not recompile.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("GeneratedBuildInfo.swift")
        let script = """
            cd "$1" || exit 1
            commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
            if [ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
              dirty=true
            else
              dirty=false
            fi
            text="enum GeneratedBuildInfo { static let commit = \\"$commit\\"; static let dirty = $dirty }"
            if [ "$(cat "$2" 2>/dev/null)" != "$text" ]; then printf '%s\\n' "$text" > "$2"; fi
            """
        return [
            .prebuildCommand(
                displayName: "Recording the git commit of \(target.name)",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "build-info", context.package.directoryURL.path, output.path],
                outputFilesDirectory: context.pluginWorkDirectoryURL
            ),
        ]
    }
}
