package celpolicy

// DefaultAWSMapping returns Google's default attributeMapping for AWS
// providers: the subject is the caller's ARN and attribute.aws_role is the
// role ARN without the session name for assumed roles (the ARN itself for IAM
// users and the root user). Callers own the returned map.
func DefaultAWSMapping() map[string]string {
	return map[string]string{
		keySubject: "assertion.arn",
		"attribute.aws_role": "assertion.arn.contains('assumed-role')" +
			" ? assertion.arn.extract('{account_arn}assumed-role/') + 'assumed-role/' + assertion.arn.extract('assumed-role/{role_name}/')" +
			" : assertion.arn",
	}
}
