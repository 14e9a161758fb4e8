/// Placeholder: the S3 client and SigV4 signer land here.
enum AWSClientPlaceholder {}
