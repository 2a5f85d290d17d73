# Terraform and provider versions (.terraform.lock.hcl pins the provider build). Remote state:
# see backend.hcl.example and docs/deploy.md.
terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge(var.tags, {
      Application = "TechChallengeApp"
      Stack       = var.name
      ManagedBy   = "terraform"
    })
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_availability_zones" "available" {
  state = "available"
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  azs        = slice(data.aws_availability_zones.available.names, 0, var.az_count)
  container  = "app"

  # Where HTTPS ends. With a domain (certificate_arn or a Route 53 zone) the ALB is the public
  # endpoint; without one, CloudFront serves HTTPS on its own *.cloudfront.net name and the ALB
  # accepts only CloudFront (cloudfront.tf).
  use_cloudfront = var.certificate_arn == "" && var.domain_name == "" && var.route53_zone_id == ""
}
