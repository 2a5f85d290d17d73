# HTTPS without a domain: when certificate_arn, domain_name and route53_zone_id are all empty,
# CloudFront serves the app on its own https://<id>.cloudfront.net/ name with its default
# certificate, and calls the ALB on port 80 (the ALB's *.elb.amazonaws.com name cannot carry a
# certificate of ours). The ALB admits only CloudFront: its security group allows just the
# managed prefix list com.amazonaws.global.cloudfront.origin-facing, and its listener forwards
# only requests carrying a secret header that CloudFront adds (alb.tf); the secret is a random
# UUID made once at the first apply (replace it with
# `terraform apply -replace=terraform_data.origin_secret`). Nothing is cached: the app's
# responses all pass through (CachingDisabled, every header, cookie and query string).

locals {
  origin_header_name = "X-Origin-Verify"
  origin_secret      = one(terraform_data.origin_secret[*].output)

  # AWS managed CloudFront policies (fixed IDs, the same in every account).
  cloudfront_caching_disabled   = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
  cloudfront_origin_all_viewer  = "216adef6-5c7f-47e4-b989-5492eafa07d3"
  cloudfront_origin_id          = "alb"
  cloudfront_origin_prefix_list = "com.amazonaws.global.cloudfront.origin-facing"
}

resource "terraform_data" "origin_secret" {
  count = local.use_cloudfront ? 1 : 0

  input = uuid()

  lifecycle {
    ignore_changes = [input]
  }
}

data "aws_ec2_managed_prefix_list" "cloudfront" {
  count = local.use_cloudfront ? 1 : 0

  name = local.cloudfront_origin_prefix_list
}

resource "aws_cloudfront_response_headers_policy" "app" {
  count = local.use_cloudfront && var.hsts_max_age > 0 ? 1 : 0

  name    = "${var.name}-security-headers"
  comment = "HSTS for ${var.name}"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = var.hsts_max_age
      include_subdomains         = true
      override                   = true
    }
  }
}

resource "aws_cloudfront_distribution" "app" {
  count = local.use_cloudfront ? 1 : 0

  enabled         = true
  comment         = "${var.name}: HTTPS in front of the ALB"
  is_ipv6_enabled = true
  http_version    = "http2and3"
  price_class     = var.cloudfront_price_class
  web_acl_id      = var.cloudfront_web_acl_arn != "" ? var.cloudfront_web_acl_arn : null

  origin {
    origin_id   = local.cloudfront_origin_id
    domain_name = aws_lb.app.dns_name

    custom_origin_config {
      http_port                = 80
      https_port               = 443
      origin_protocol_policy   = "http-only"
      origin_ssl_protocols     = ["TLSv1.2"]
      origin_keepalive_timeout = 5
      origin_read_timeout      = 30
    }

    custom_header {
      name  = local.origin_header_name
      value = local.origin_secret
    }
  }

  default_cache_behavior {
    target_origin_id           = local.cloudfront_origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = local.cloudfront_caching_disabled
    origin_request_policy_id   = local.cloudfront_origin_all_viewer
    response_headers_policy_id = one(aws_cloudfront_response_headers_policy.app[*].id)
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = true
    minimum_protocol_version       = "TLSv1"
  }
}
