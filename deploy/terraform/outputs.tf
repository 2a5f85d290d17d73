# Everything the release step (scripts/ecs-release.sh) and CI need, and what a person looks for.

output "app_url" {
  description = "Where the app answers (HTTPS)."
  value       = "https://${local.app_host}/"
}

output "alb_dns_name" {
  description = "DNS name of the load balancer (with certificate_arn and no Route 53 zone, point domain_name here). Behind CloudFront it answers only CloudFront."
  value       = aws_lb.app.dns_name
}

output "cloudfront_domain_name" {
  description = "CloudFront name serving HTTPS when no domain is used (null with a domain)."
  value       = one(aws_cloudfront_distribution.app[*].domain_name)
}

output "alarm_topic_arn" {
  description = "SNS topic of every alarm (subscribe e-mail, chat or paging here)."
  value       = aws_sns_topic.alarms.arn
}

output "alb_access_logs_bucket" {
  description = "S3 bucket with the ALB access logs (prefix alb/)."
  value       = aws_s3_bucket.alb_logs.id
}

output "aws_region" {
  description = "Region of the stack."
  value       = var.aws_region
}

output "ecr_repository_url" {
  description = "Push images here, tagged with the commit SHA."
  value       = aws_ecr_repository.app.repository_url
}

output "cluster_name" {
  description = "ECS cluster."
  value       = aws_ecs_cluster.main.name
}

output "service_name" {
  description = "ECS service of the app."
  value       = aws_ecs_service.app.name
}

output "app_task_definition_arn" {
  description = "Task definition revision of the app for image_tag; the release step deploys it."
  value       = aws_ecs_task_definition.app.arn
}

output "migrate_task_definition_arn" {
  description = "Task definition revision of the one-off `TechChallengeApp migrate` task."
  value       = aws_ecs_task_definition.migrate.arn
}

output "app_subnet_ids" {
  description = "Private subnets for tasks (app and migration)."
  value       = aws_subnet.app[*].id
}

output "app_security_group_id" {
  description = "Security group for tasks (app and migration)."
  value       = aws_security_group.app.id
}

output "log_group_name" {
  description = "CloudWatch log group of the app and migration tasks."
  value       = aws_cloudwatch_log_group.app.name
}

output "db_endpoint" {
  description = "Database host name (private)."
  value       = aws_db_instance.main.address
}

output "db_secret_arn" {
  description = "Secrets Manager secret with the database user and password (managed by RDS)."
  value       = local.db_secret_arn
}

output "github_build_role_arn" {
  description = "Role for the build/plan jobs (GitHub variable AWS_BUILD_ROLE_ARN)."
  value       = one(aws_iam_role.github_build[*].arn)
}

output "github_deploy_role_arn" {
  description = "Role for the gated apply/deploy job (GitHub variable AWS_DEPLOY_ROLE_ARN)."
  value       = one(aws_iam_role.github_deploy[*].arn)
}
