# Day-2 behaviour of the stack, offline (mocked AWS provider): HTTPS without a domain through
# CloudFront, health semantics that outlast a database failover, password rotation without a
# human, alarms and alarm-driven rollback, RDS operability, the connection budget, the public
# endpoint's guards, access logs, the IAM permissions boundary and the service-linked roles.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  github_repository = "example/techchallengeapp"
  image_tag         = "0123456789abcdef0123456789abcdef01234567"
}

run "no_domain_https_through_cloudfront" {
  assert {
    condition     = length(aws_cloudfront_distribution.app) == 1 && aws_cloudfront_distribution.app[0].viewer_certificate[0].cloudfront_default_certificate
    error_message = "without a domain, CloudFront serves HTTPS with its default certificate"
  }
  assert {
    condition     = aws_cloudfront_distribution.app[0].default_cache_behavior[0].viewer_protocol_policy == "redirect-to-https"
    error_message = "CloudFront redirects plain HTTP viewers to HTTPS"
  }
  assert {
    condition     = output.app_url == "https://d111111abcdef8.cloudfront.net/"
    error_message = "app_url is the CloudFront name"
  }
  assert {
    condition     = one(aws_cloudfront_distribution.app[0].origin).domain_name == aws_lb.app.dns_name
    error_message = "CloudFront's origin is the ALB"
  }
  assert {
    condition = (one(one(aws_cloudfront_distribution.app[0].origin).custom_header).name == "X-Origin-Verify"
      && one(one(aws_cloudfront_distribution.app[0].origin).custom_header).value == terraform_data.origin_secret[0].output
    && length(terraform_data.origin_secret[0].output) == 36)
    error_message = "CloudFront sends the random origin secret header"
  }
  assert {
    condition = (one(aws_lb_listener_rule.from_cloudfront[0].condition).http_header[0].http_header_name == "X-Origin-Verify"
      && one(aws_lb_listener_rule.from_cloudfront[0].condition).http_header[0].values == toset([terraform_data.origin_secret[0].output])
    && aws_lb_listener_rule.from_cloudfront[0].action[0].type == "forward")
    error_message = "the ALB forwards only requests carrying the origin secret"
  }
  assert {
    condition = (aws_lb_listener.http.default_action[0].type == "fixed-response"
    && aws_lb_listener.http.default_action[0].fixed_response[0].status_code == "403")
    error_message = "anything else reaching the ALB directly gets 403"
  }
  assert {
    condition     = length(aws_lb_listener.https) == 0 && aws_lb_listener_rule.operator_paths_not_public.listener_arn == aws_lb_listener.http.arn
    error_message = "behind CloudFront the forwarding listener is port 80 and still hides /metrics and /debug"
  }
  assert {
    condition = (length(aws_vpc_security_group_ingress_rule.alb_https) == 0 && length(aws_vpc_security_group_ingress_rule.alb_http) == 0
      && aws_vpc_security_group_ingress_rule.alb_from_cloudfront[0].prefix_list_id == data.aws_ec2_managed_prefix_list.cloudfront[0].id
    && data.aws_ec2_managed_prefix_list.cloudfront[0].name == "com.amazonaws.global.cloudfront.origin-facing")
    error_message = "the ALB admits only CloudFront's origin-facing prefix list"
  }
  assert {
    condition     = one(aws_cloudfront_response_headers_policy.app[0].security_headers_config[0].strict_transport_security).access_control_max_age_sec == 31536000
    error_message = "CloudFront adds HSTS"
  }
  assert {
    condition     = length(aws_acm_certificate.app) == 0 && length(aws_route53_record.app) == 0
    error_message = "no certificate or DNS record without a domain"
  }
}

run "health_semantics_outlast_a_failover" {
  assert {
    condition     = aws_lb_target_group.app.health_check[0].path == "/healthcheck/"
    error_message = "the ALB checks readiness (/healthcheck/)"
  }
  assert {
    condition     = aws_lb_target_group.app.health_check[0].interval * aws_lb_target_group.app.health_check[0].unhealthy_threshold >= 120
    error_message = "unhealthy_threshold x interval must be at least 120 s"
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.app.container_definitions)[0].healthCheck.command == ["CMD", "/usr/local/bin/TechChallengeApp", "healthcheck", "--live"]
    error_message = "ECS's container check is liveness only"
  }
  assert {
    condition     = aws_lb_target_group.app.protocol == "HTTP" && !contains([for e in jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment : e.name], "VTT_TLSSELFSIGNED")
    error_message = "plain HTTP to the tasks by default"
  }
}

run "health_threshold_too_short_refused" {
  command = plan

  variables {
    health_check_interval            = 10
    health_check_unhealthy_threshold = 5
  }

  expect_failures = [aws_lb_target_group.app]
}

run "backend_https" {
  variables {
    backend_https = true
  }

  assert {
    condition     = aws_lb_target_group.app.protocol == "HTTPS" && aws_lb_target_group.app.health_check[0].protocol == "HTTPS"
    error_message = "target group and health check speak HTTPS to the tasks"
  }
  assert {
    condition     = contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "VTT_TLSSELFSIGNED", value = "true" })
    error_message = "the task makes its own self-signed certificate"
  }
}

run "rotation_restarts_the_service_without_a_human" {
  assert {
    condition     = !aws_secretsmanager_secret_rotation.db.rotate_immediately
    error_message = "no rotation during the first apply"
  }
  assert {
    condition = (jsondecode(aws_cloudwatch_event_rule.rotation_succeeded.event_pattern).detail.eventName == ["RotationSucceeded"]
      && jsondecode(aws_cloudwatch_event_rule.rotation_succeeded.event_pattern).detail.additionalEventData.SecretId == [aws_db_instance.main.master_user_secret[0].secret_arn]
    && jsondecode(aws_cloudwatch_event_rule.rotation_succeeded.event_pattern).source == ["aws.secretsmanager"])
    error_message = "the rule matches RotationSucceeded of this stack's secret"
  }
  assert {
    condition     = aws_cloudwatch_event_target.rotation_succeeded.arn == aws_sfn_state_machine.restart.arn && aws_cloudwatch_event_target.rotation_succeeded.role_arn == aws_iam_role.rotation_events.arn
    error_message = "the rule starts the restart state machine"
  }
  assert {
    condition = (jsondecode(aws_sfn_state_machine.restart.definition).States.ForceNewDeployment.Resource == "arn:aws:states:::aws-sdk:ecs:updateService"
      && jsondecode(aws_sfn_state_machine.restart.definition).States.ForceNewDeployment.Parameters.ForceNewDeployment
      && jsondecode(aws_sfn_state_machine.restart.definition).States.ForceNewDeployment.Parameters.Service == aws_ecs_service.app.name
    && jsondecode(aws_sfn_state_machine.restart.definition).States.ForceNewDeployment.Parameters.Cluster == aws_ecs_cluster.main.name)
    error_message = "the state machine forces a new deployment of the app service"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.restart.policy).Statement[0].Action == ["ecs:UpdateService", "ecs:DescribeServices"] && jsondecode(aws_iam_role_policy.restart.policy).Statement[0].Resource == [aws_ecs_service.app.id]
    error_message = "the state machine may update only this service"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.rotation_events.policy).Statement[0].Resource == [aws_sfn_state_machine.restart.arn]
    error_message = "EventBridge may start only this state machine"
  }
}

run "alarms_page_and_roll_back" {
  variables {
    alarm_email = "ops@example.com"
  }

  assert {
    condition = (aws_ecs_service.app.alarms[0].enable && aws_ecs_service.app.alarms[0].rollback
    && aws_ecs_service.app.alarms[0].alarm_names == toset([aws_cloudwatch_metric_alarm.target_5xx.alarm_name]))
    error_message = "a deployment that answers 5xx rolls back (ECS deployment alarms)"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.target_5xx.metric_name == "HTTPCode_Target_5XX_Count" && aws_cloudwatch_metric_alarm.alb_5xx.metric_name == "HTTPCode_ELB_5XX_Count"
    error_message = "5xx alarms on the tasks and the ALB"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.unhealthy_hosts.metric_name == "UnHealthyHostCount" && aws_cloudwatch_metric_alarm.unhealthy_hosts.dimensions.TargetGroup == aws_lb_target_group.app.arn_suffix
    error_message = "unhealthy targets alarm"
  }
  assert {
    condition = (contains([for q in aws_cloudwatch_metric_alarm.ecs_running_below_desired.metric_query : q.expression if q.expression != null && q.expression != ""], "desired - running")
    && contains(flatten([for q in aws_cloudwatch_metric_alarm.ecs_running_below_desired.metric_query : [for m in q.metric : m.metric_name]]), "RunningTaskCount"))
    error_message = "ECS running < desired alarm"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.db_cpu.metric_name == "CPUUtilization" && aws_cloudwatch_metric_alarm.db_free_storage.metric_name == "FreeStorageSpace"
    && aws_cloudwatch_metric_alarm.db_connections[0].metric_name == "DatabaseConnections" && aws_cloudwatch_metric_alarm.db_connections[0].threshold == 67)
    error_message = "RDS CPU, free storage and connections (80 % of 84 counted for db.t4g.micro) alarms"
  }
  assert {
    condition = alltrue([for a in [aws_cloudwatch_metric_alarm.target_5xx, aws_cloudwatch_metric_alarm.alb_5xx, aws_cloudwatch_metric_alarm.unhealthy_hosts, aws_cloudwatch_metric_alarm.ecs_running_below_desired, aws_cloudwatch_metric_alarm.db_cpu, aws_cloudwatch_metric_alarm.db_free_storage, aws_cloudwatch_metric_alarm.db_connections[0]] :
    a.alarm_actions == toset([aws_sns_topic.alarms.arn])])
    error_message = "every alarm notifies the topic"
  }
  assert {
    condition = (jsondecode(aws_cloudwatch_event_rule.rotation_failed.event_pattern).detail.eventName == ["RotationFailed", "RotationAbandoned"]
    && aws_cloudwatch_event_target.rotation_failed.arn == aws_sns_topic.alarms.arn)
    error_message = "a failed rotation notifies the topic"
  }
  assert {
    condition     = aws_sns_topic_subscription.alarm_email[0].endpoint == "ops@example.com" && aws_sns_topic_subscription.alarm_email[0].protocol == "email"
    error_message = "alarm_email subscribes to the topic"
  }
}

run "rds_logs_insight_and_lifecycle" {
  assert {
    condition     = toset([for g in aws_cloudwatch_log_group.db : g.name]) == toset(["/aws/rds/instance/techchallenge/postgresql", "/aws/rds/instance/techchallenge/upgrade"])
    error_message = "the RDS log export groups are created by Terraform"
  }
  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.db : g.retention_in_days == 30])
    error_message = "the RDS log groups have a retention"
  }
  assert {
    condition     = aws_db_instance.main.performance_insights_enabled && aws_db_instance.main.performance_insights_retention_period == 7
    error_message = "Performance Insights on (7 days, free tier)"
  }
  assert {
    condition     = aws_db_instance.main.monitoring_interval == 60 && aws_db_instance.main.monitoring_role_arn == aws_iam_role.db_monitoring[0].arn
    error_message = "Enhanced Monitoring on, with its role"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.db_monitoring[0].policy_arn == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    error_message = "the monitoring role has the AWS policy for Enhanced Monitoring"
  }
  assert {
    condition     = aws_db_instance.main.engine_lifecycle_support == "open-source-rds-extended-support-disabled"
    error_message = "Extended Support never starts silently"
  }
  assert {
    condition     = contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "VTT_DBPOOLSIZE", value = "5" })
    error_message = "the pool size the budget was checked for is the one the app gets"
  }
}

run "connection_budget_refused" {
  command = plan

  variables {
    max_tasks    = 12
    db_pool_size = 8
  }

  expect_failures = [aws_db_instance.main]
}

run "unknown_instance_class_needs_max_connections" {
  command = plan

  variables {
    db_instance_class = "db.x2g.large"
  }

  expect_failures = [aws_db_instance.main]
}

run "known_max_connections_for_unknown_class" {
  command = plan

  variables {
    db_instance_class  = "db.x2g.large"
    db_max_connections = 1000
  }

  assert {
    condition     = aws_db_instance.main.instance_class == "db.x2g.large"
    error_message = "an explicit db_max_connections satisfies the budget check"
  }
}

run "rds_proxy_for_large_fleets" {
  variables {
    max_tasks        = 12
    db_pool_size     = 8
    db_proxy_enabled = true
  }

  assert {
    condition     = contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "VTT_DBHOST", value = aws_db_proxy.main[0].endpoint })
    error_message = "the app connects to the proxy"
  }
  assert {
    condition     = contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "VTT_DBSSLROOTCERT", value = "/etc/ssl/certs/ca-certificates.crt" })
    error_message = "the proxy's ACM certificate is verified against the system CA store"
  }
  assert {
    condition = (aws_db_proxy.main[0].require_tls && one(aws_db_proxy.main[0].auth).secret_arn == aws_db_instance.main.master_user_secret[0].secret_arn
    && aws_db_proxy_target.main[0].db_instance_identifier == aws_db_instance.main.identifier)
    error_message = "the proxy requires TLS, authenticates with the RDS secret and targets the instance"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.db_proxy_from_app[0].referenced_security_group_id == aws_security_group.app.id && aws_vpc_security_group_ingress_rule.db_from_proxy[0].referenced_security_group_id == aws_security_group.db_proxy[0].id
    error_message = "app -> proxy -> database, nothing else"
  }
}

run "guarded_public_endpoint_with_domain" {
  variables {
    certificate_arn       = "arn:aws:acm:ap-southeast-2:123456789012:certificate/existing"
    domain_name           = "todo.example.com"
    allowed_ingress_cidrs = ["203.0.113.0/24", "198.51.100.7/32"]
    waf_enabled           = true
  }

  assert {
    condition = (toset([for r in aws_vpc_security_group_ingress_rule.alb_https : r.cidr_ipv4]) == toset(["203.0.113.0/24", "198.51.100.7/32"])
    && toset([for r in aws_vpc_security_group_ingress_rule.alb_http : r.cidr_ipv4]) == toset(["203.0.113.0/24", "198.51.100.7/32"]))
    error_message = "only allowed_ingress_cidrs reach the ALB"
  }
  assert {
    condition     = length(aws_cloudfront_distribution.app) == 0 && output.app_url == "https://todo.example.com/"
    error_message = "with a domain the ALB is the endpoint"
  }
  assert {
    condition     = aws_wafv2_web_acl_association.app[0].resource_arn == aws_lb.app.arn && aws_wafv2_web_acl.app[0].scope == "REGIONAL"
    error_message = "the web ACL guards the ALB"
  }
  assert {
    condition     = toset([for r in aws_wafv2_web_acl.app[0].rule : r.name]) == toset(["rate-limit-per-ip", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"])
    error_message = "managed common + known bad inputs rule groups and a rate-based rule"
  }
  assert {
    condition = (one([for r in aws_wafv2_web_acl.app[0].rule : one(one(r.statement).rate_based_statement).limit if r.name == "rate-limit-per-ip"]) == 2000
    && one([for r in aws_wafv2_web_acl.app[0].rule : one(one(r.statement).rate_based_statement).aggregate_key_type if r.name == "rate-limit-per-ip"]) == "IP")
    error_message = "the rate rule counts per client IP"
  }
}

run "no_waf_by_default" {
  assert {
    condition     = length(aws_wafv2_web_acl.app) == 0 && length(aws_wafv2_web_acl_association.app) == 0
    error_message = "WAF is off unless waf_enabled"
  }
}

run "cidrs_cannot_narrow_cloudfront_mode" {
  command = plan

  variables {
    allowed_ingress_cidrs = ["203.0.113.0/24"]
  }

  expect_failures = [var.allowed_ingress_cidrs]
}

run "alb_access_logs_bounded_and_private" {
  assert {
    condition     = aws_lb.app.access_logs[0].enabled && aws_lb.app.access_logs[0].bucket == aws_s3_bucket.alb_logs.id
    error_message = "the ALB writes access logs to the bucket"
  }
  assert {
    condition = (aws_s3_bucket_public_access_block.alb_logs.block_public_acls && aws_s3_bucket_public_access_block.alb_logs.block_public_policy
    && aws_s3_bucket_public_access_block.alb_logs.ignore_public_acls && aws_s3_bucket_public_access_block.alb_logs.restrict_public_buckets)
    error_message = "public access blocked"
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.alb_logs.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "encrypted (SSE-S3, what ELB log delivery supports)"
  }
  assert {
    condition     = one(aws_s3_bucket_lifecycle_configuration.alb_logs.rule).status == "Enabled" && one(one(aws_s3_bucket_lifecycle_configuration.alb_logs.rule).expiration).days == 90
    error_message = "a lifecycle rule bounds the retention"
  }
  assert {
    condition = (contains([for s in jsondecode(aws_s3_bucket_policy.alb_logs.policy).Statement : s.Principal if s.Effect == "Allow"], { Service = "logdelivery.elasticloadbalancing.amazonaws.com" })
      && contains([for s in jsondecode(aws_s3_bucket_policy.alb_logs.policy).Statement : s.Principal if s.Effect == "Allow"], { AWS = data.aws_elb_service_account.current[0].arn })
    && alltrue([for s in jsondecode(aws_s3_bucket_policy.alb_logs.policy).Statement : s.Effect == "Deny" || s.Action == "s3:PutObject"]))
    error_message = "only ELB log delivery may write, and only objects"
  }
  assert {
    condition     = !aws_s3_bucket.alb_logs.force_destroy
    error_message = "logs are kept while deletion protection is on"
  }
}

run "alb_logs_in_a_region_opened_after_2022" {
  command = plan

  variables {
    aws_region = "il-central-1"
  }

  assert {
    condition     = length(data.aws_elb_service_account.current) == 0
    error_message = "newer regions have no ELB account: only the log-delivery service writes"
  }
}

run "iam_permissions_boundary_closes_escalation" {
  assert {
    condition = alltrue([for r in concat([aws_iam_role.execution, aws_iam_role.task, aws_iam_role.flow_logs, aws_iam_role.restart, aws_iam_role.rotation_events], aws_iam_role.db_monitoring) :
    r.permissions_boundary == aws_iam_policy.boundary.arn])
    error_message = "every runtime role carries the permissions boundary"
  }
  assert {
    condition     = length(aws_iam_role_policy_attachment.github_deploy) == 0
    error_message = "no PowerUserAccess (no managed policy at all) on the deploy role"
  }
  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.github_deploy[0].policy).Statement :
      try(s.Condition.StringEquals["iam:PermissionsBoundary"], "") == aws_iam_policy.boundary.arn
      if s.Effect == "Allow" && length(setintersection(toset(flatten([s.Action])), toset(["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePolicy", "iam:DetachRolePolicy"]))) > 0
    ])
    error_message = "the deploy role creates and changes roles only with the boundary attached"
  }
  assert {
    condition = anytrue([for s in jsondecode(aws_iam_role_policy.github_deploy[0].policy).Statement :
    s.Effect == "Deny" && contains(flatten([s.Action]), "iam:DeleteRolePermissionsBoundary") && contains(flatten([s.Action]), "iam:CreatePolicyVersion")])
    error_message = "the deploy role may not lift a boundary or rewrite the boundary policy"
  }
  assert {
    condition = anytrue([for s in jsondecode(aws_iam_role_policy.github_deploy[0].policy).Statement :
    s.Effect == "Deny" && contains(flatten([s.Action]), "sts:AssumeRole")])
    error_message = "the deploy role may not assume other roles"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.github_build_view_only[0].policy_arn == "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
    error_message = "the plan role gets ViewOnlyAccess, not ReadOnlyAccess (no data reads)"
  }
  assert {
    condition = alltrue(flatten([for s in jsondecode(aws_iam_role_policy.github_build[0].policy).Statement : [
      for a in flatten([s.Action]) : can(regex("^[a-z0-9-]+:(Describe|Get|List)", a)) || startswith(a, "ecr:") || a == "states:ValidateStateMachineDefinition"
    ]]))
    error_message = "the plan role only reads (besides pushing images)"
  }
  assert {
    condition = !anytrue(flatten([for s in jsondecode(aws_iam_role_policy.github_build[0].policy).Statement : [
      for a in flatten([s.Action]) : contains(["s3:GetObject", "secretsmanager:GetSecretValue", "ssm:GetParameter", "logs:GetLogEvents", "dynamodb:GetItem"], a) && !contains(flatten([s.Resource]), "*") && s.Sid != "StateObjectAndLock"
    ]]))
    error_message = "the plan role reads no data"
  }
}

run "service_linked_roles_created_on_a_new_account" {
  assert {
    condition     = aws_iam_service_linked_role.ecs[0].aws_service_name == "ecs.amazonaws.com" && aws_iam_service_linked_role.autoscaling[0].aws_service_name == "ecs.application-autoscaling.amazonaws.com"
    error_message = "the ECS and Application Auto Scaling service-linked roles are created"
  }
}

run "service_linked_roles_left_alone_on_an_existing_account" {
  variables {
    create_service_linked_roles = false
    create_github_oidc_provider = false
  }

  assert {
    condition     = length(aws_iam_service_linked_role.ecs) == 0 && length(aws_iam_service_linked_role.autoscaling) == 0 && length(aws_iam_openid_connect_provider.github) == 0
    error_message = "an existing account keeps its service-linked roles and OIDC provider"
  }
  assert {
    condition     = jsondecode(aws_iam_role.github_build[0].assume_role_policy).Statement[0].Principal.Federated == "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    error_message = "the CI roles trust the existing provider"
  }
}

run "image_pulls_off_nat_and_tasks_rebalanced" {
  assert {
    condition     = aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway" && aws_vpc_endpoint.s3.service_name == "com.amazonaws.ap-southeast-2.s3" && toset(aws_vpc_endpoint.s3.route_table_ids) == toset(aws_route_table.app[*].id)
    error_message = "an S3 gateway endpoint serves the app subnets (ECR layers off NAT)"
  }
  assert {
    condition     = aws_ecs_service.app.availability_zone_rebalancing == "ENABLED"
    error_message = "tasks are spread over the AZs again after an AZ outage"
  }
}

run "app_environment_cannot_override_the_stack" {
  command = plan

  variables {
    app_environment = { VTT_LISTENPORT = "8080" }
  }

  expect_failures = [var.app_environment]
}

run "app_environment_takes_other_settings" {
  command = plan

  variables {
    app_environment = { VTT_LOGLEVEL = "debug" }
  }

  assert {
    condition     = length([for e in jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment : e if e.name == "VTT_LOGLEVEL" && e.value == "debug"]) == 1
    error_message = "VTT_LOGLEVEL reaches the container"
  }
}
