/// Placeholder: the CloudFormation template builder lands here.
enum AWSDeployPlaceholder {}
