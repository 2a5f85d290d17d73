# CI/CD identities for GitHub Actions through OIDC: no stored AWS keys. Created only when
# github_repository is set. Two roles, each trusting only this repository:
#
#   <name>-github-build   jobs on the main branch (sub = repo:OWNER/REPO:ref:refs/heads/main):
#                         push images to this ECR repository, read-only access for
#                         `terraform plan`, and the state lock.
#   <name>-github-deploy  jobs in the protected GitHub environment (sub =
#                         repo:OWNER/REPO:environment:production): `terraform apply`, the
#                         migration task and the service update. Applying this stack means
#                         creating VPCs, databases and IAM roles, so this role is powerful by
#                         nature: github_deploy_policy_arns (PowerUserAccess by default) plus
#                         IAM rights limited to roles named "<name>-*" and to the task roles it
#                         passes to ECS. It may not modify the two CI roles themselves (that is
#                         an administrator's apply). Protect the environment with required
#                         reviewers and a main-only deployment branch rule.

locals {
  ci          = var.github_repository != "" ? 1 : 0
  github_host = "token.actions.githubusercontent.com"
  github_oidc_provider_arn = (var.create_github_oidc_provider
    ? one(aws_iam_openid_connect_provider.github[*].arn)
  : "arn:${local.partition}:iam::${local.account_id}:oidc-provider/${local.github_host}")

  ci_role_names = ["${var.name}-github-build", "${var.name}-github-deploy"]

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

resource "aws_iam_role_policy_attachment" "github_build_read_only" {
  count = local.ci

  role       = aws_iam_role.github_build[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
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
          "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload",
          "ecr:PutImage", "ecr:UploadLayerPart",
        ]
        Resource = [aws_ecr_repository.app.arn]
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

  name = "stack-iam-and-release"
  role = aws_iam_role.github_deploy[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid    = "ManageThisStacksRoles"
        Effect = "Allow"
        Action = [
          "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole",
          "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole",
          "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy", "iam:ListRolePolicies",
          "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:ListRoleTags",
        ]
        Resource = ["arn:${local.partition}:iam::${local.account_id}:role/${var.name}-*"]
      },
      {
        Sid      = "AttachOnlyTheConfiguredManagedPolicies"
        Effect   = "Allow"
        Action   = ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
        Resource = ["arn:${local.partition}:iam::${local.account_id}:role/${var.name}-*"]
        Condition = {
          ArnEquals = { "iam:PolicyARN" = concat(var.github_deploy_policy_arns, ["arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"]) }
        }
      },
      {
        Sid      = "NeverChangeTheCiRolesThemselves"
        Effect   = "Deny"
        Action   = ["iam:Put*", "iam:Attach*", "iam:Detach*", "iam:Delete*", "iam:Update*", "iam:Tag*", "iam:Untag*", "iam:CreateRole"]
        Resource = [for n in local.ci_role_names : "arn:${local.partition}:iam::${local.account_id}:role/${n}"]
      },
      {
        Sid      = "ReadTheOidcProvider"
        Effect   = "Allow"
        Action   = ["iam:GetOpenIDConnectProvider", "iam:ListOpenIDConnectProviderTags"]
        Resource = [local.github_oidc_provider_arn]
      },
      {
        Sid      = "PassOnlyTheTaskRolesToEcs"
        Effect   = "Allow"
        Action   = ["iam:PassRole"]
        Resource = [aws_iam_role.execution.arn, aws_iam_role.task.arn, aws_iam_role.flow_logs.arn]
        Condition = {
          StringEquals = { "iam:PassedToService" = ["ecs-tasks.amazonaws.com", "vpc-flow-logs.amazonaws.com"] }
        }
      },
    ], local.state_statements)
  })
}
