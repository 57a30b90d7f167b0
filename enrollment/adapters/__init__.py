"""The edges: AWS services (DynamoDB, S3, KMS, SNS, Step Functions, Scheduler), the Lambda
environment and observability, behind the domain's ports.

Every DynamoDB key and index attribute of the season's single table is built here and nowhere else.
`wiring` builds the real adapters once per cold start from `settings`.
"""
