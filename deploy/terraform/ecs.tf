# ECS on Fargate: the app service behind the ALB and a one-off migration task, both from the
# same image and settings. Tasks run in the private app subnets without public IPs, as a
# non-root user, with a read-only root filesystem; the database user and password come from the
# RDS-managed secret through `secrets`, never from plain environment variables.
#
# Terraform registers new task definition revisions (image_tag changes); the service's
# task_definition is then moved by the release step (scripts/ecs-release.sh: migrate first,
# then deploy), which is why the service ignores later changes to it.
#
# Health: ECS's container check is liveness only (`TechChallengeApp healthcheck --live` never
# touches the database), so a database outage does not make ECS kill every task; readiness
# (/healthcheck/) is the ALB's (alb.tf). A deployment rolls back by itself when the circuit
# breaker trips or when the target 5xx alarm fires during it (alarms.tf).

resource "aws_cloudwatch_log_group" "app" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_cluster" "main" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

locals {
  image                      = "${aws_ecr_repository.app.repository_url}:${var.image_tag}"
  deployment_maximum_percent = 200

  # RDS Proxy presents an ACM (Amazon Trust Services) certificate, not the RDS CA: with it the
  # app verifies against the image's system CA store.
  db_ssl_root_cert = var.db_proxy_enabled ? "/etc/ssl/certs/ca-certificates.crt" : var.db_ssl_root_cert

  app_environment = merge({
    VTT_DBTYPE          = "postgres"
    VTT_DBHOST          = local.db_host
    VTT_DBPORT          = "5432"
    VTT_DBNAME          = var.db_name
    VTT_DBPOOLSIZE      = tostring(var.db_pool_size)
    VTT_DBSSLMODE       = var.db_ssl_mode
    VTT_DBSSLROOTCERT   = local.db_ssl_root_cert
    VTT_LISTENHOST      = "0.0.0.0"
    VTT_LISTENPORT      = "3000"
    VTT_LOGFORMAT       = "json"
    VTT_DEBUGENDPOINT   = "false"
    VTT_SHUTDOWNTIMEOUT = tostring(var.shutdown_timeout)
    }, var.backend_https ? { VTT_TLSSELFSIGNED = "true" } : {},
  var.app_environment)

  # The secret is RDS's JSON {"username": ..., "password": ...}; ECS picks one key of it.
  app_secrets = [
    { name = "VTT_DBUSER", valueFrom = "${local.db_secret_arn}:username::" },
    { name = "VTT_DBPASSWORD", valueFrom = "${local.db_secret_arn}:password::" },
  ]

  container_common = {
    image                  = local.image
    essential              = true
    user                   = var.container_user
    readonlyRootFilesystem = true
    privileged             = false
    environment            = [for k in sort(keys(local.app_environment)) : { name = k, value = local.app_environment[k] }]
    secrets                = local.app_secrets
    linuxParameters = {
      initProcessEnabled = true
      capabilities       = { drop = ["ALL"] }
    }
    mountPoints = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    ulimits     = [{ name = "nofile", softLimit = 65536, hardLimit = 65536 }]
  }
}

resource "aws_ecs_task_definition" "app" {
  family                   = "${var.name}-app"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([merge(local.container_common, {
    name         = local.container
    command      = ["serve"]
    portMappings = [{ containerPort = 3000, hostPort = 3000, protocol = "tcp" }]
    stopTimeout  = var.stop_timeout
    healthCheck = {
      command     = ["CMD", "/usr/local/bin/TechChallengeApp", "healthcheck", "--live"]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 10
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.app.name
        awslogs-region        = var.aws_region
        awslogs-stream-prefix = "app"
      }
    }
  })])
}

# `TechChallengeApp migrate`: creates what is missing, never drops. Run once per release,
# before the service moves to the new revision (CI checks its exit code).
resource "aws_ecs_task_definition" "migrate" {
  family                   = "${var.name}-migrate"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([merge(local.container_common, {
    name    = "migrate"
    command = ["migrate"]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.app.name
        awslogs-region        = var.aws_region
        awslogs-stream-prefix = "migrate"
      }
    }
  })])
}

resource "aws_ecs_service" "app" {
  name                   = "${var.name}-app"
  cluster                = aws_ecs_cluster.main.id
  task_definition        = aws_ecs_task_definition.app.arn
  desired_count          = var.min_tasks
  launch_type            = "FARGATE"
  platform_version       = "LATEST"
  propagate_tags         = "SERVICE"
  enable_execute_command = false

  # After an AZ outage, spread the tasks over the AZs again.
  availability_zone_rebalancing = "ENABLED"

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = local.deployment_maximum_percent
  health_check_grace_period_seconds  = 60

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # A release that is "healthy" but answers 5xx is rolled back too.
  alarms {
    enable      = true
    rollback    = true
    alarm_names = [aws_cloudwatch_metric_alarm.target_5xx.alarm_name]
  }

  network_configuration {
    subnets          = aws_subnet.app[*].id
    security_groups  = [aws_security_group.app.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.app.arn
    container_name   = local.container
    container_port   = 3000
  }

  lifecycle {
    # desired_count belongs to autoscaling, task_definition to the release step.
    ignore_changes = [desired_count, task_definition]
  }

  depends_on = [
    aws_lb_listener.http, aws_lb_listener.https, aws_lb_listener_rule.from_cloudfront,
    aws_iam_role_policy.execution, aws_iam_service_linked_role.ecs,
  ]
}

# --- autoscaling between min_tasks and max_tasks -------------------------------------------

resource "aws_appautoscaling_target" "app" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.app.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_tasks
  max_capacity       = var.max_tasks

  depends_on = [aws_iam_service_linked_role.autoscaling]
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.app.service_namespace
  resource_id        = aws_appautoscaling_target.app.resource_id
  scalable_dimension = aws_appautoscaling_target.app.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "requests" {
  name               = "${var.name}-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.app.service_namespace
  resource_id        = aws_appautoscaling_target.app.resource_id
  scalable_dimension = aws_appautoscaling_target.app.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.requests_per_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${aws_lb.app.arn_suffix}/${aws_lb_target_group.app.arn_suffix}"
    }
  }
}
