# Values a mocked AWS provider returns for what AWS would compute (ARNs, ids, names), shared
# by the tests in this directory (mock_provider "aws" { source = "./tests/mocks" }).
mock_data "aws_availability_zones" {
  defaults = {
    names = ["ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"]
  }
}

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition = "aws"
  }
}

mock_data "aws_elb_service_account" {
  defaults = {
    arn = "arn:aws:iam::783225319266:root"
  }
}

mock_data "aws_ec2_managed_prefix_list" {
  defaults = {
    id = "pl-b8a742d1"
  }
}

mock_resource "aws_iam_policy" {
  defaults = {
    arn = "arn:aws:iam::123456789012:policy/techchallenge-boundary"
  }
}

mock_resource "aws_s3_bucket" {
  defaults = {
    arn = "arn:aws:s3:::techchallenge-alb-logs-123456789012-ap-southeast-2"
  }
}

mock_resource "aws_sns_topic" {
  defaults = {
    arn = "arn:aws:sns:ap-southeast-2:123456789012:techchallenge-alarms"
  }
}

mock_resource "aws_sfn_state_machine" {
  defaults = {
    arn = "arn:aws:states:ap-southeast-2:123456789012:stateMachine:techchallenge-restart-after-rotation"
  }
}

mock_resource "aws_ecs_service" {
  defaults = {
    id = "arn:aws:ecs:ap-southeast-2:123456789012:service/techchallenge/techchallenge-app"
  }
}

mock_resource "aws_cloudfront_distribution" {
  defaults = {
    domain_name = "d111111abcdef8.cloudfront.net"
    arn         = "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE"
  }
}

mock_resource "aws_db_proxy" {
  defaults = {
    endpoint = "techchallenge.proxy-abcdefghijkl.ap-southeast-2.rds.amazonaws.com"
    arn      = "arn:aws:rds:ap-southeast-2:123456789012:db-proxy:prx-0123456789abcdef0"
  }
}

mock_resource "aws_db_instance" {
  defaults = {
    address = "techchallenge.abcdefghijkl.ap-southeast-2.rds.amazonaws.com"
    master_user_secret = [{
      secret_arn    = "arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:rds!db-0123-AbCdEf"
      secret_status = "active"
      kms_key_id    = "arn:aws:kms:ap-southeast-2:123456789012:key/mock"
    }]
  }
}

mock_resource "aws_acm_certificate" {
  defaults = {
    arn = "arn:aws:acm:ap-southeast-2:123456789012:certificate/issued"
    domain_validation_options = [{
      domain_name           = "todo.example.com"
      resource_record_name  = "_abc.todo.example.com."
      resource_record_type  = "CNAME"
      resource_record_value = "_xyz.acm-validations.aws."
    }]
  }
}

mock_resource "aws_acm_certificate_validation" {
  defaults = {
    certificate_arn = "arn:aws:acm:ap-southeast-2:123456789012:certificate/issued"
  }
}

mock_resource "aws_lb" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:ap-southeast-2:123456789012:loadbalancer/app/techchallenge-alb/0123456789abcdef"
    arn_suffix = "app/techchallenge-alb/0123456789abcdef"
    dns_name   = "techchallenge-alb-123456789.ap-southeast-2.elb.amazonaws.com"
    zone_id    = "Z1GM3OXH4ZPM65"
  }
}

mock_resource "aws_lb_target_group" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:ap-southeast-2:123456789012:targetgroup/techchallenge-app/0123456789abcdef"
    arn_suffix = "targetgroup/techchallenge-app/0123456789abcdef"
  }
}

mock_resource "aws_lb_listener" {
  defaults = {
    arn = "arn:aws:elasticloadbalancing:ap-southeast-2:123456789012:listener/app/techchallenge-alb/0123456789abcdef/0123456789abcdef"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/techchallenge-mock"
  }
}

mock_resource "aws_iam_openid_connect_provider" {
  defaults = {
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:ap-southeast-2:123456789012:log-group:mock"
  }
}

mock_resource "aws_ecs_cluster" {
  defaults = {
    arn = "arn:aws:ecs:ap-southeast-2:123456789012:cluster/techchallenge"
  }
}

mock_resource "aws_ecs_task_definition" {
  defaults = {
    arn = "arn:aws:ecs:ap-southeast-2:123456789012:task-definition/techchallenge-mock:1"
  }
}

mock_resource "aws_ecr_repository" {
  defaults = {
    arn            = "arn:aws:ecr:ap-southeast-2:123456789012:repository/techchallenge"
    repository_url = "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/techchallenge"
  }
}

mock_resource "aws_db_proxy_default_target_group" {
  defaults = {
    name = "default"
  }
}

mock_resource "aws_wafv2_web_acl" {
  defaults = {
    arn = "arn:aws:wafv2:ap-southeast-2:123456789012:regional/webacl/techchallenge-alb/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
  }
}
