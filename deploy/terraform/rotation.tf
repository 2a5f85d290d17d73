# Password rotation without a human. RDS rotates the managed secret every
# db_credentials_rotation_days (never at the first apply: rds.tf). Running tasks got the old
# password as an environment variable when they started, so they can keep their open
# connections but cannot open new ones. When Secrets Manager reports RotationSucceeded for this
# secret, EventBridge starts a small Step Functions state machine that calls ECS UpdateService
# with forceNewDeployment: fresh tasks read the new password, the old ones drain as in any
# deployment (min 100 %, so capacity never drops). The app also re-reads VTT_DBPASSWORD_FILE on
# an authentication failure where the password comes from a file; with ECS's env injection, the
# new deployment is what refreshes it. A failed rotation pages through the alarm topic
# (alarms.tf). Decision record: docs/adr/0018-aws-deploy-day2.md.

locals {
  # Secrets Manager rotation events reach EventBridge through CloudTrail as service events.
  rotation_event = {
    source      = ["aws.secretsmanager"]
    detail-type = ["AWS Service Event via CloudTrail"]
    detail = {
      eventSource         = ["secretsmanager.amazonaws.com"]
      additionalEventData = { SecretId = [local.db_secret_arn] }
    }
  }
  restart_machine_name = "${var.name}-restart-after-rotation"
}

resource "aws_iam_role" "restart" {
  name                 = "${var.name}-restart-after-rotation"
  description          = "Step Functions of ${var.name}: force a new ECS deployment after a password rotation"
  permissions_boundary = aws_iam_policy.boundary.arn

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "states.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "restart" {
  name = "force-new-deployment"
  role = aws_iam_role.restart.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "RestartTheAppService"
      Effect   = "Allow"
      Action   = ["ecs:UpdateService", "ecs:DescribeServices"]
      Resource = [aws_ecs_service.app.id]
    }]
  })
}

resource "aws_sfn_state_machine" "restart" {
  name     = local.restart_machine_name
  role_arn = aws_iam_role.restart.arn
  type     = "STANDARD"

  definition = jsonencode({
    Comment = "Start fresh ${var.name} tasks so they read the rotated database password"
    StartAt = "ForceNewDeployment"
    States = {
      ForceNewDeployment = {
        Type     = "Task"
        Resource = "arn:${local.partition}:states:::aws-sdk:ecs:updateService"
        Parameters = {
          Cluster            = aws_ecs_cluster.main.name
          Service            = aws_ecs_service.app.name
          ForceNewDeployment = true
        }
        Retry = [{
          ErrorEquals     = ["States.ALL"]
          IntervalSeconds = 30
          MaxAttempts     = 5
          BackoffRate     = 2
        }]
        End = true
      }
    }
  })
}

resource "aws_iam_role" "rotation_events" {
  name                 = "${var.name}-rotation-events"
  description          = "EventBridge of ${var.name}: start the restart state machine"
  permissions_boundary = aws_iam_policy.boundary.arn

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "rotation_events" {
  name = "start-restart"
  role = aws_iam_role.rotation_events.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "StartTheRestartStateMachine"
      Effect   = "Allow"
      Action   = ["states:StartExecution"]
      Resource = [aws_sfn_state_machine.restart.arn]
    }]
  })
}

resource "aws_cloudwatch_event_rule" "rotation_succeeded" {
  name        = "${var.name}-db-rotation-succeeded"
  description = "The ${var.name} database password rotated: restart the tasks"
  event_pattern = jsonencode(merge(local.rotation_event, {
    detail = merge(local.rotation_event.detail, { eventName = ["RotationSucceeded"] })
  }))
}

resource "aws_cloudwatch_event_target" "rotation_succeeded" {
  rule     = aws_cloudwatch_event_rule.rotation_succeeded.name
  arn      = aws_sfn_state_machine.restart.arn
  role_arn = aws_iam_role.rotation_events.arn
}
