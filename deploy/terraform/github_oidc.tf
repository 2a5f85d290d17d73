# CI/CD identities for GitHub Actions through OIDC: no stored AWS keys. Created only when
# github_repository is set. Two roles, each trusting only this repository:
#
#   <name>-github-build   jobs on the main branch (sub = repo:OWNER/REPO:ref:refs/heads/main):
#                         push images to this ECR repository, and read what `terraform plan`
#                         refreshes: ViewOnlyAccess (metadata, no data) plus the exact
#                         Describe/Get/List calls of this stack's resources, the state object and
#                         its lock. No S3 object, SSM parameter, secret value or log line beyond
#                         those.
#   <name>-github-deploy  jobs in the protected GitHub environment (sub =
#                         repo:OWNER/REPO:environment:production): `terraform apply`, the
#                         migration task and the service update. It gets the services this
#                         stack uses, in aws_region only (CloudFront: global), and IAM only for
#                         roles named "<name>-*" that carry the stack's permissions boundary
#                         (iam:PermissionsBoundary condition on every create/put/attach), so it
#                         cannot create a role more powerful than the runtime needs; it may not
#                         remove a boundary, change the boundary policy, assume roles, or modify
#                         the two CI roles themselves (those are an administrator's apply).
#                         Protect the environment with required reviewers and a main-only
#                         deployment branch rule.

locals {
  ci          = var.github_repository != "" ? 1 : 0
  github_host = "token.actions.githubusercontent.com"
  github_oidc_provider_arn = (var.create_github_oidc_provider
    ? one(aws_iam_openid_connect_provider.github[*].arn)
  : "arn:${local.partition}:iam::${local.account_id}:oidc-provider/${local.github_host}")

  ci_role_names = ["${var.name}-github-build", "${var.name}-github-deploy"]
  stack_roles   = "arn:${local.partition}:iam::${local.account_id}:role/${var.name}-*"
  boundary_arn  = "arn:${local.partition}:iam::${local.account_id}:policy/${local.boundary_name}"

  # Services the deploy role manages in aws_region (the whole service, since it creates and
  # destroys their resources); never IAM, STS, KMS, Lambda, SSM, S3 data or Secrets Manager
  # values, which are granted narrowly below.
  deploy_regional_services = [
    "application-autoscaling", "acm", "cloudwatch", "ec2", "ecr", "ecs", "elasticloadbalancing",
    "events", "rds", "sns", "states", "wafv2",
  ]
  deploy_global_services = ["cloudfront"]

  # Managed policies the deploy role may attach to the stack's (bounded) roles.
  deploy_attachable_policies = concat(var.github_deploy_policy_arns, [local.rds_monitoring_policy_arn])

  # Everything `terraform plan` refreshes, read-only (ViewOnlyAccess lists but does not Get).
  plan_read_actions = [
    "acm:DescribeCertificate", "acm:ListTagsForCertificate",
    "application-autoscaling:Describe*", "application-autoscaling:ListTagsForResource",
    "cloudfront:GetDistribution", "cloudfront:GetResponseHeadersPolicy", "cloudfront:ListTagsForResource",
    "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource",
    "ec2:Describe*", "ec2:GetManagedPrefixListEntries", "ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy",
    "ecr:ListTagsForResource", "ecs:Describe*", "ecs:List*", "elasticloadbalancing:Describe*",
    "events:DescribeRule", "events:ListTagsForResource", "events:ListTargetsByRule",
    "iam:GetOpenIDConnectProvider", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetRole",
    "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListPolicyVersions", "iam:ListRolePolicies",
    "iam:ListOpenIDConnectProviderTags", "iam:ListRoleTags", "iam:ListPolicyTags",
    "logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
    "rds:Describe*", "rds:ListTagsForResource", "route53:GetHostedZone", "route53:ListResourceRecordSets",
    "route53:ListTagsForResource", "route53:GetChange",
    "secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy",
    "sns:GetSubscriptionAttributes", "sns:GetTopicAttributes", "sns:ListTagsForResource",
    "states:DescribeStateMachine", "states:ListTagsForResource", "states:ValidateStateMachineDefinition",
    "wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:ListTagsForResource",
  ]
  alb_logs_bucket_arn = "arn:${local.partition}:s3:::${var.name}-alb-logs-${local.account_id}-${var.aws_region}"

  state_statements = var.tf_state_bucket == "" ? [] : [
    {
      Sid      = "StateBucket"
      Effect   = "Allow"
      Action   = ["s3:ListBucket"]
      Resource = ["arn:${local.partition}:s3:::${var.tf_state_bucket}"]
    },
    {
      Sid      = "StateObjectAndLock"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      Resource = ["arn:${local.partition}:s3:::${var.tf_state_bucket}/${var.tf_state_key}", "arn:${local.partition}:s3:::${var.tf_state_bucket}/${var.tf_state_key}.tflock"]
    },
  ]
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? local.ci : 0

  url            = "https://${local.github_host}"
  client_id_list = ["sts.amazonaws.com"]
}

resource "aws_iam_role" "github_build" {
  count = local.ci

  name                 = local.ci_role_names[0]
  description          = "GitHub Actions (${var.github_repository}, ${var.github_branch}): push images, terraform plan"
  max_session_duration = 3600

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = local.github_oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.github_host}:aud" = "sts.amazonaws.com"
          "${local.github_host}:sub" = "repo:${var.github_repository}:ref:refs/heads/${var.github_branch}"
        }
      }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "github_build_view_only" {
  count = local.ci

  role       = aws_iam_role.github_build[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/job-function/ViewOnlyAccess"
}

resource "aws_iam_role_policy" "github_build" {
  count = local.ci

  name = "push-image-and-plan"
  role = aws_iam_role.github_build[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid      = "EcrLogin"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = "*" # this action has no resource-level permissions
      },
      {
        Sid    = "PushThisRepository"
        Effect = "Allow"
        Action = [
          "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
          "ecr:DescribeImageScanFindings", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer",
          "ecr:InitiateLayerUpload",
          "ecr:PutImage", "ecr:UploadLayerPart",
        ]
        Resource = [aws_ecr_repository.app.arn]
      },
      {
        Sid      = "RefreshThisStack"
        Effect   = "Allow"
        Action   = local.plan_read_actions
        Resource = "*" # read-only Describe/Get/List calls, most without resource-level permissions
      },
      {
        Sid      = "RefreshTheAccessLogBucket"
        Effect   = "Allow"
        Action   = ["s3:GetBucket*", "s3:GetLifecycleConfiguration", "s3:GetEncryptionConfiguration", "s3:GetAccelerateConfiguration", "s3:GetReplicationConfiguration"]
        Resource = [local.alb_logs_bucket_arn]
      },
    ], local.state_statements)
  })
}

resource "aws_iam_role" "github_deploy" {
  count = local.ci

  name                 = local.ci_role_names[1]
  description          = "GitHub Actions (${var.github_repository}, environment ${var.github_environment}): terraform apply, migrate, deploy"
  max_session_duration = 3600

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = local.github_oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.github_host}:aud" = "sts.amazonaws.com"
          "${local.github_host}:sub" = "repo:${var.github_repository}:environment:${var.github_environment}"
        }
      }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "github_deploy" {
  for_each = local.ci == 1 ? toset(var.github_deploy_policy_arns) : toset([])

  role       = aws_iam_role.github_deploy[0].name
  policy_arn = each.value
}

resource "aws_iam_role_policy" "github_deploy" {
  count = local.ci

  name = "stack-services-and-bounded-iam"
  role = aws_iam_role.github_deploy[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid       = "StackServicesInItsRegion"
        Effect    = "Allow"
        Action    = [for s in local.deploy_regional_services : "${s}:*"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:RequestedRegion" = var.aws_region } }
      },
      {
        Sid       = "CloudFrontIsGlobal"
        Effect    = "Allow"
        Action    = [for s in local.deploy_global_services : "${s}:*"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:RequestedRegion" = "us-east-1" } }
      },
      {
        Sid      = "ThisStacksLogGroups"
        Effect   = "Allow"
        Action   = ["logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:TagResource", "logs:UntagResource", "logs:TagLogGroup", "logs:ListTagsForResource", "logs:ListTagsLogGroup", "logs:GetLogEvents", "logs:DescribeLogStreams"]
        Resource = ["arn:${local.partition}:logs:${local.region_account}:log-group:/ecs/${var.name}*", "arn:${local.partition}:logs:${local.region_account}:log-group:/vpc/${var.name}/*", "arn:${local.partition}:logs:${local.region_account}:log-group:/aws/rds/instance/${var.name}/*"]
      },
      {
        Sid      = "DescribeLogGroups"
        Effect   = "Allow"
        Action   = ["logs:DescribeLogGroups"]
        Resource = "*" # no resource-level permissions
      },
      {
        Sid      = "TheRdsManagedSecretsMetadataAndRotation"
        Effect   = "Allow"
        Action   = ["secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy", "secretsmanager:RotateSecret", "secretsmanager:CancelRotateSecret", "secretsmanager:ListSecretVersionIds"]
        Resource = ["arn:${local.partition}:secretsmanager:${local.region_account}:secret:rds!*"]
      },
      {
        Sid      = "TheAccessLogBucketNotItsObjects"
        Effect   = "Allow"
        Action   = ["s3:*"]
        Resource = [local.alb_logs_bucket_arn]
      },
      {
        Sid      = "Route53RecordsOfTheZone"
        Effect   = "Allow"
        Action   = ["route53:ChangeResourceRecordSets", "route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:GetChange", "route53:ListTagsForResource"]
        Resource = ["arn:${local.partition}:route53:::hostedzone/*", "arn:${local.partition}:route53:::change/*"]
      },
      {
        Sid      = "CreateAndChangeOnlyBoundedStackRoles"
        Effect   = "Allow"
        Action   = ["iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary", "iam:DetachRolePolicy"]
        Resource = [local.stack_roles]
        Condition = {
          StringEquals = { "iam:PermissionsBoundary" = local.boundary_arn }
        }
      },
      {
        Sid      = "AttachOnlyTheConfiguredManagedPoliciesToBoundedRoles"
        Effect   = "Allow"
        Action   = ["iam:AttachRolePolicy"]
        Resource = [local.stack_roles]
        Condition = {
          StringEquals = { "iam:PermissionsBoundary" = local.boundary_arn }
          ArnEquals    = { "iam:PolicyARN" = local.deploy_attachable_policies }
        }
      },
      {
        Sid    = "ReadAndRetireStackRoles"
        Effect = "Allow"
        Action = [
          "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
          "iam:TagRole", "iam:UntagRole", "iam:GetRolePolicy", "iam:ListRolePolicies",
          "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:ListRoleTags",
        ]
        Resource = [local.stack_roles]
      },
      {
        Sid      = "ReadTheBoundaryPolicy"
        Effect   = "Allow"
        Action   = ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:ListPolicyTags"]
        Resource = [local.boundary_arn]
      },
      {
        Sid      = "ServiceLinkedRolesOfTheStacksServices"
        Effect   = "Allow"
        Action   = ["iam:CreateServiceLinkedRole"]
        Resource = ["arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/*"]
        Condition = {
          StringEquals = { "iam:AWSServiceName" = ["ecs.amazonaws.com", "ecs.application-autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com", "rds.amazonaws.com"] }
        }
      },
      {
        Sid      = "ReadServiceLinkedRoles"
        Effect   = "Allow"
        Action   = ["iam:GetRole"]
        Resource = ["arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/*"]
      },
      {
        Sid      = "NeverChangeTheCiRolesThemselves"
        Effect   = "Deny"
        Action   = ["iam:Put*", "iam:Attach*", "iam:Detach*", "iam:Delete*", "iam:Update*", "iam:Tag*", "iam:Untag*", "iam:CreateRole"]
        Resource = [for n in local.ci_role_names : "arn:${local.partition}:iam::${local.account_id}:role/${n}"]
      },
      {
        Sid      = "NeverLiftOrRewriteTheBoundary"
        Effect   = "Deny"
        Action   = ["iam:DeleteRolePermissionsBoundary", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"]
        Resource = ["*"]
      },
      {
        Sid      = "NeverBecomeAnotherRole"
        Effect   = "Deny"
        Action   = ["sts:AssumeRole"]
        Resource = ["*"]
      },
      {
        Sid      = "ReadTheOidcProvider"
        Effect   = "Allow"
        Action   = ["iam:GetOpenIDConnectProvider", "iam:ListOpenIDConnectProviderTags"]
        Resource = [local.github_oidc_provider_arn]
      },
      {
        Sid      = "PassOnlyTheStacksRolesToTheirServices"
        Effect   = "Allow"
        Action   = ["iam:PassRole"]
        Resource = [local.stack_roles]
        Condition = {
          StringEquals = { "iam:PassedToService" = ["ecs-tasks.amazonaws.com", "vpc-flow-logs.amazonaws.com", "monitoring.rds.amazonaws.com", "states.amazonaws.com", "events.amazonaws.com", "rds.amazonaws.com"] }
        }
      },
    ], local.state_statements)
  })
}
