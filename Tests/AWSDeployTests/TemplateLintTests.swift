import AWSDeploy
import XCTest

/// The generated template and its state machine definition pass cfn-lint and
/// statelint, and the linters do catch the mistakes they are relied on for.
final class TemplateLintTests: XCTestCase {
    static let original = try! CloudFormationTemplate.make(TemplateOptions()).rendered()

    static let everyOption = try! CloudFormationTemplate.make(TemplateOptions(
        stackName: "alice-cosmic", dataBucket: "alice.data-1", dataPrefix: "cai/partitions/",
        resultsBucket: "alice-results", resultsPrefix: "runs/",
        imageURI: "123456789012.dkr.ecr.us-east-1.amazonaws.com/cosmicbench:v1",
        rankMemoryMB: 3008, rankEphemeralStorageMB: 2048,
        maxConcurrency: 0, toleratedFailurePercentage: 5, logRetentionDays: 7)).rendered()

    /// The templates cfn-lint checks, good and broken, in one run.
    static let variants: [(name: String, text: String)] = [
        ("template.json", original),
        ("every-option.json", everyOption),
        ("misspelt-path.json", original.replacingOccurrences(of: "\"MaxConcurrencyPath\"", with: "\"MaxConcurencyPath\"")),
        ("misspelt-literal.json", original.replacingOccurrences(
            of: "\"MaxConcurrencyPath\": \"$.\(StateMachineDefinition.mapLimitsKey).max_concurrency\"", with: "\"MaxConcurency\": 4")),
        ("action-typo.json", original.replacingOccurrences(of: "\"s3:GetObject\"", with: "\"s3:GetObjekt\"")),
        ("image-handler.json", original.replacingOccurrences(of: "\"PackageType\": \"Image\",",
                                                             with: "\"PackageType\": \"Image\", \"Handler\": \"main\",")),
    ]

    static let cfnLintFindings: Result<[String: [String]], LinterFailure> = Result {
        try Linters.cfnLint(variants)
    }.mapError { $0 as? LinterFailure ?? LinterFailure(message: "\($0)") }

    /// cfn-lint's findings for one variant; fails if that variant did not
    /// change the template (its edit found nothing to replace).
    private func findings(_ name: String) throws -> String {
        let variant = try XCTUnwrap(Self.variants.first { $0.name == name }, name)
        if name != "template.json" && name != "every-option.json" {
            XCTAssertNotEqual(variant.text, Self.original, "\(name): the edit found nothing to replace")
        }
        let all = try Self.cfnLintFindings.get()
        XCTAssertNil(all[""], "cfn-lint findings naming no file: \(all[""] ?? [])")
        return (all[name] ?? []).joined(separator: "\n\n")
    }

    /// A copy of `text` with `old` replaced; fails if `old` is absent, so a
    /// broken variant can never silently equal the original.
    private func breaking(_ text: String, _ old: String, _ new: String) throws -> String {
        let broken = text.replacingOccurrences(of: old, with: new)
        XCTAssertNotEqual(broken, text, "\(old) not found: the broken variant would be the original")
        return broken
    }

    func testTemplatePassesCfnLintWithoutErrorsOrWarnings() throws {
        XCTAssertEqual(try findings("template.json"), "")
    }

    func testTemplateWithEveryOptionSetPassesCfnLint() throws {
        XCTAssertEqual(try findings("every-option.json"), "")
    }

    func testExtractedDefinitionPassesStatelint() throws {
        let definition = try XCTUnwrap(CloudFormationTemplate.make(TemplateOptions())["Resources"]?[LogicalID.stateMachine]?["Properties"]?["Definition"])
        XCTAssertEqual(definition, CloudFormationTemplate.stateMachineDefinition())
        let result = try Linters.statelint(definition.rendered())
        XCTAssertEqual(result.status, 0, result.output)
    }

    func testStandaloneDefinitionPassesStatelint() throws {
        let arn = { (handler: PipelineEvents.Handler) in
            PipelineNames.functionARN(handler, stack: "cosmicbench", region: "us-east-1", account: "123456789012")
        }
        let definition = CloudFormationTemplate.stateMachineDefinition(
            functions: .arns(initialize: arn(.initialize), rank: arn(.rank), summarize: arn(.summarize)),
            limits: .literal(maxConcurrency: 8, toleratedFailurePercentage: 0))
        let text = definition.rendered()
        XCTAssertFalse(text.contains("${"), "a standalone definition must hold no placeholders")
        let result = try Linters.statelint(text)
        XCTAssertEqual(result.status, 0, result.output)
    }

    func testStatelintRejectsNextToMissingState() throws {
        let definition = CloudFormationTemplate.stateMachineDefinition().rendered()
        let broken = try breaking(definition, "\"Next\": \"\(StateMachineDefinition.mapState)\"", "\"Next\": \"Rankz\"")
        let result = try Linters.statelint(broken)
        XCTAssertNotEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("Rankz"), result.output)
    }

    func testStatelintRejectsToleranceOver100() throws {
        let definition = CloudFormationTemplate.stateMachineDefinition(
            functions: .arns(initialize: "arn:aws:lambda:us-east-1:123456789012:function:a",
                             rank: "arn:aws:lambda:us-east-1:123456789012:function:b",
                             summarize: "arn:aws:lambda:us-east-1:123456789012:function:c"),
            limits: .literal(maxConcurrency: 8, toleratedFailurePercentage: 150))
        let result = try Linters.statelint(definition.rendered())
        XCTAssertNotEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("ToleratedFailurePercentage"), result.output)
    }

    func testCfnLintRejectsMisspeltMapField() throws {
        let output = try findings("misspelt-path.json")
        XCTAssertTrue(output.contains("E3601") && output.contains("MaxConcurencyPath"), output)
    }

    func testCfnLintRejectsMisspeltLiteralMaxConcurrency() throws {
        let output = try findings("misspelt-literal.json")
        XCTAssertTrue(output.contains("E3601") && output.contains("MaxConcurency"), output)
    }

    func testCfnLintWarnsOnIAMActionTypo() throws {
        let output = try findings("action-typo.json")
        XCTAssertTrue(output.contains("W3037") && output.lowercased().contains("getobjekt"), output)
    }

    func testCfnLintRejectsHandlerOnImageFunction() throws {
        let output = try findings("image-handler.json")
        XCTAssertTrue(output.contains("E3685"), output)
    }
}
