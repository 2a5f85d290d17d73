# Optional AWS WAF on the ALB (waf_enabled, off by default): the AWS managed Common rule set and
# Known bad inputs rule group, and a rate-based rule that blocks a client sending more than
# waf_rate_limit requests in 5 minutes. Behind CloudFront the ALB sees CloudFront's addresses,
# so the rate rule counts per X-Forwarded-For address instead (the first one, which a client can
# set: for a strict limit there, attach a CLOUDFRONT-scope ACL through cloudfront_web_acl_arn).

locals {
  waf_managed_groups = {
    AWSManagedRulesCommonRuleSet         = 10
    AWSManagedRulesKnownBadInputsRuleSet = 20
  }
}

resource "aws_wafv2_web_acl" "app" {
  count = var.waf_enabled ? 1 : 0

  name        = "${var.name}-alb"
  description = "${var.name}: AWS managed common and known-bad-inputs rules, per-IP rate limit"
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  rule {
    name     = "rate-limit-per-ip"
    priority = 1

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit                 = var.waf_rate_limit
        evaluation_window_sec = 300
        aggregate_key_type    = local.use_cloudfront ? "FORWARDED_IP" : "IP"

        dynamic "forwarded_ip_config" {
          for_each = local.use_cloudfront ? [1] : []
          content {
            header_name       = "X-Forwarded-For"
            fallback_behavior = "MATCH"
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  dynamic "rule" {
    for_each = local.waf_managed_groups
    content {
      name     = rule.key
      priority = rule.value

      override_action {
        none {}
      }

      statement {
        managed_rule_group_statement {
          vendor_name = "AWS"
          name        = rule.key
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "${var.name}-${rule.key}"
        sampled_requests_enabled   = true
      }
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-alb"
    sampled_requests_enabled   = true
  }
}

resource "aws_wafv2_web_acl_association" "app" {
  count = var.waf_enabled ? 1 : 0

  resource_arn = aws_lb.app.arn
  web_acl_arn  = aws_wafv2_web_acl.app[0].arn
}
