# IAM for the tasks, least privilege:
#   execution role  what ECS itself needs to start a task: pull this repository's images, write
#                   to this log group, read this one secret
#   task role       what the app needs from AWS: nothing (it only talks to PostgreSQL)
#
# Every role this stack makes (except the two CI roles, which only an administrator's apply
# may change) carries the permissions boundary <name>-boundary: the most any of them could ever
# do. The CI deploy role may create or change roles only when they carry that boundary
# (github_oidc.tf), so it cannot mint a role more powerful than the runtime needs.
#
# The ECS and Application Auto Scaling service-linked roles are created here on a new account
# (create_service_linked_roles), before the first service needs them.

locals {
  rds_monitoring_policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
  boundary_name             = "${var.name}-boundary"
  region_account            = "${var.aws_region}:${local.account_id}"
}

resource "aws_iam_service_linked_role" "ecs" {
  count = var.create_service_linked_roles ? 1 : 0

  aws_service_name = "ecs.amazonaws.com"
  description      = "ECS (created by the ${var.name} stack for a new account)"
}

resource "aws_iam_service_linked_role" "autoscaling" {
  count = var.create_service_linked_roles ? 1 : 0

  aws_service_name = "ecs.application-autoscaling.amazonaws.com"
}

# The ceiling of the runtime roles: pull this stack's images, write logs (its own groups and
# RDS's OS metrics), read RDS-managed secrets, restart this stack's service, start this stack's
# state machine. No IAM, no STS, no data services.
resource "aws_iam_policy" "boundary" {
  name        = local.boundary_name
  description = "Permissions boundary of every runtime role of ${var.name}"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "EcrLogin"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = "*" # this action has no resource-level permissions
      },
      {
        Sid      = "PullThisStacksImages"
        Effect   = "Allow"
        Action   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
        Resource = ["arn:${local.partition}:ecr:${local.region_account}:repository/${var.name}"]
      },
      {
        Sid    = "WriteLogs"
        Effect = "Allow"
        Action = [
          "logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:CreateLogStream", "logs:PutLogEvents",
          "logs:DescribeLogStreams", "logs:GetLogEvents",
        ]
        Resource = [
          "arn:${local.partition}:logs:${local.region_account}:log-group:/ecs/${var.name}:*",
          "arn:${local.partition}:logs:${local.region_account}:log-group:/vpc/${var.name}/*",
          "arn:${local.partition}:logs:${local.region_account}:log-group:RDS*",
        ]
      },
      {
        Sid      = "ReadRdsManagedSecrets"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
        Resource = ["arn:${local.partition}:secretsmanager:${local.region_account}:secret:rds!*"]
      },
      {
        Sid      = "RestartThisStacksService"
        Effect   = "Allow"
        Action   = ["ecs:UpdateService", "ecs:DescribeServices"]
        Resource = ["arn:${local.partition}:ecs:${local.region_account}:service/${var.name}/*"]
      },
      {
        Sid      = "StartThisStacksStateMachines"
        Effect   = "Allow"
        Action   = ["states:StartExecution"]
        Resource = ["arn:${local.partition}:states:${local.region_account}:stateMachine:${var.name}-*"]
      },
    ]
  })
}

locals {
  ecs_tasks_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:*" }
        StringEquals = { "aws:SourceAccount" = local.account_id }
      }
    }]
  })
}

resource "aws_iam_role" "execution" {
  name                 = "${var.name}-ecs-execution"
  description          = "ECS agent for ${var.name}: pull image, write logs, read the DB secret"
  assume_role_policy   = local.ecs_tasks_trust
  permissions_boundary = aws_iam_policy.boundary.arn
}

resource "aws_iam_role_policy" "execution" {
  name = "start-tasks"
  role = aws_iam_role.execution.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "EcrLogin"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = "*" # this action has no resource-level permissions
      },
      {
        Sid      = "PullThisRepository"
        Effect   = "Allow"
        Action   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
        Resource = [aws_ecr_repository.app.arn]
      },
      {
        Sid      = "WriteThisLogGroup"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.app.arn}:*"]
      },
      {
        Sid      = "ReadTheDatabaseSecret"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = [local.db_secret_arn]
      },
    ]
  })
}

# The app calls no AWS API: the task role exists so that nothing falls back to a broader
# identity, and carries no policy at all.
resource "aws_iam_role" "task" {
  name                 = "${var.name}-ecs-task"
  description          = "TechChallengeApp tasks of ${var.name}: no AWS permissions"
  assume_role_policy   = local.ecs_tasks_trust
  permissions_boundary = aws_iam_policy.boundary.arn
}
