# Application Load Balancer in the public subnets. Two ways in, chosen by local.use_cloudfront:
#
#   with a domain   the ALB is the public endpoint: port 80 answers with a permanent redirect,
#                   port 443 terminates TLS 1.2/1.3 with an ACM certificate (HSTS added by the
#                   listener) and forwards to the tasks; allowed_ingress_cidrs limits who may
#                   connect.
#   without one     CloudFront terminates HTTPS on its *.cloudfront.net name (cloudfront.tf) and
#                   calls the ALB on port 80. The security group admits only CloudFront's
#                   origin-facing prefix list, and the listener forwards only requests carrying
#                   the secret origin header CloudFront adds; anything else gets 403.
#
# Readiness vs liveness: the target group probes /healthcheck/ (the database answers) and takes
# a task out only after health_check_unhealthy_threshold x health_check_interval (>= 120 s, so an
# RDS Multi-AZ failover does not churn the fleet); ECS's container check is liveness only
# (ecs.tf).
#
# Draining, in the order ECS stops a task:
#   1. the target is deregistered; the ALB stops sending it new requests and gives in-flight
#      ones deregistration_delay (15 s) to finish;
#   2. ECS sends SIGTERM; the app stops accepting and drains for up to shutdown_timeout (20 s);
#   3. after stop_timeout (30 s) ECS would SIGKILL, which a healthy app never reaches.
# deregistration_delay < shutdown_timeout < stop_timeout is enforced by variable validation.

locals {
  create_certificate = !local.use_cloudfront && var.certificate_arn == ""
  create_dns_record  = var.domain_name != "" && var.route53_zone_id != ""
  certificate_arn    = local.create_certificate ? aws_acm_certificate_validation.app[0].certificate_arn : var.certificate_arn
  app_host           = local.use_cloudfront ? one(aws_cloudfront_distribution.app[*].domain_name) : var.domain_name
  target_protocol    = var.backend_https ? "HTTPS" : "HTTP"
  hsts_value         = var.hsts_max_age > 0 ? "max-age=${var.hsts_max_age}; includeSubDomains" : null

  # The listener that forwards to the tasks: HTTPS with a domain, port 80 behind CloudFront.
  forward_listener_arn = local.use_cloudfront ? aws_lb_listener.http.arn : aws_lb_listener.https[0].arn
}

resource "aws_lb" "app" {
  name               = "${var.name}-alb"
  load_balancer_type = "application"
  internal           = false
  subnets            = aws_subnet.public[*].id
  security_groups    = [aws_security_group.alb.id]

  drop_invalid_header_fields = true
  desync_mitigation_mode     = "strictest"
  enable_deletion_protection = var.deletion_protection
  idle_timeout               = 60

  access_logs {
    bucket  = aws_s3_bucket.alb_logs.id
    prefix  = "alb"
    enabled = true
  }

  # The bucket policy must exist before the ALB is told to write there (ELB checks it).
  depends_on = [aws_s3_bucket_policy.alb_logs]
}

resource "aws_lb_target_group" "app" {
  name                 = "${var.name}-app"
  vpc_id               = aws_vpc.main.id
  target_type          = "ip"
  protocol             = local.target_protocol
  port                 = 3000
  deregistration_delay = var.deregistration_delay

  health_check {
    path                = "/healthcheck/"
    port                = "traffic-port"
    protocol            = local.target_protocol
    matcher             = "200"
    interval            = var.health_check_interval
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = var.health_check_unhealthy_threshold
  }

  lifecycle {
    precondition {
      condition     = var.health_check_interval * var.health_check_unhealthy_threshold >= 120
      error_message = "health_check_unhealthy_threshold x health_check_interval must be at least 120 s, longer than an RDS Multi-AZ failover."
    }
  }
}

# Port 80: a redirect to HTTPS with a domain; behind CloudFront, the origin listener, which
# forwards only requests carrying the origin secret (rule below) and refuses everything else.
resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.app.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = local.use_cloudfront ? "fixed-response" : "redirect"

    dynamic "redirect" {
      for_each = local.use_cloudfront ? [] : [1]
      content {
        protocol    = "HTTPS"
        port        = "443"
        status_code = "HTTP_301"
      }
    }

    dynamic "fixed_response" {
      for_each = local.use_cloudfront ? [1] : []
      content {
        content_type = "application/json"
        message_body = "{\"error\":\"forbidden\"}"
        status_code  = "403"
      }
    }
  }
}

resource "aws_lb_listener" "https" {
  count = local.use_cloudfront ? 0 : 1

  load_balancer_arn = aws_lb.app.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = local.certificate_arn

  routing_http_response_strict_transport_security_header_value = local.hsts_value

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}

# Behind CloudFront: forward only what CloudFront sent (it adds the secret header to every origin
# request); a caller that found the ALB's name gets the listener's 403.
resource "aws_lb_listener_rule" "from_cloudfront" {
  count = local.use_cloudfront ? 1 : 0

  listener_arn = aws_lb_listener.http.arn
  priority     = 20

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }

  condition {
    http_header {
      http_header_name = local.origin_header_name
      values           = [local.origin_secret]
    }
  }
}

# /metrics and /debug are for operators inside the VPC, never for the internet: the public
# listener answers them itself (docs/operations.md, docs/security.md). Scrape /metrics per task
# from inside the VPC instead.
resource "aws_lb_listener_rule" "operator_paths_not_public" {
  listener_arn = local.forward_listener_arn
  priority     = 10

  action {
    type = "fixed-response"

    fixed_response {
      content_type = "application/json"
      message_body = "{\"error\":\"not found\"}"
      status_code  = "404"
    }
  }

  condition {
    path_pattern {
      values = ["/metrics", "/metrics/*", "/debug", "/debug/*"]
    }
  }
}

# --- certificate (only with a domain and no existing certificate_arn) ---------------------

resource "aws_acm_certificate" "app" {
  count = local.create_certificate ? 1 : 0

  domain_name       = var.domain_name
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

# One domain, so one validation record (its name and value are known once the certificate is
# requested).
resource "aws_route53_record" "certificate_validation" {
  count = local.create_certificate ? 1 : 0

  zone_id         = var.route53_zone_id
  name            = tolist(aws_acm_certificate.app[0].domain_validation_options)[0].resource_record_name
  type            = tolist(aws_acm_certificate.app[0].domain_validation_options)[0].resource_record_type
  records         = [tolist(aws_acm_certificate.app[0].domain_validation_options)[0].resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "app" {
  count = local.create_certificate ? 1 : 0

  certificate_arn         = aws_acm_certificate.app[0].arn
  validation_record_fqdns = aws_route53_record.certificate_validation[*].fqdn
}

resource "aws_route53_record" "app" {
  count = local.create_dns_record ? 1 : 0

  zone_id = var.route53_zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name                   = aws_lb.app.dns_name
    zone_id                = aws_lb.app.zone_id
    evaluate_target_health = true
  }
}
