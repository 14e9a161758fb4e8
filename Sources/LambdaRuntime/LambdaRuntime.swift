/// Placeholder: the Lambda Runtime API loop lands here.
enum LambdaRuntimePlaceholder {}
