# Internet-facing ALB in the public subnets. HTTPS only: port 80 answers with a permanent
# redirect, port 443 terminates TLS 1.2/1.3 with an ACM certificate and forwards to the tasks.
#
# Draining, in the order ECS stops a task:
#   1. the target is deregistered; the ALB stops sending it new requests and gives in-flight
#      ones deregistration_delay (15 s) to finish;
#   2. ECS sends SIGTERM; the app stops accepting and drains for up to shutdown_timeout (20 s);
#   3. after stop_timeout (30 s) ECS would SIGKILL, which a healthy app never reaches.
# deregistration_delay < shutdown_timeout < stop_timeout is enforced by variable validation.

locals {
  create_certificate = var.certificate_arn == ""
  create_dns_record  = var.domain_name != "" && var.route53_zone_id != ""
  certificate_arn    = local.create_certificate ? aws_acm_certificate_validation.app[0].certificate_arn : var.certificate_arn
  app_host           = var.domain_name != "" ? var.domain_name : aws_lb.app.dns_name
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
}

resource "aws_lb_target_group" "app" {
  name                 = "${var.name}-app"
  vpc_id               = aws_vpc.main.id
  target_type          = "ip"
  protocol             = "HTTP"
  port                 = 3000
  deregistration_delay = var.deregistration_delay

  health_check {
    path                = "/healthcheck/"
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.app.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.app.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = local.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}

# /metrics and /debug are for operators inside the VPC, never for the internet: the public
# listener answers them itself (docs/operations.md, docs/security.md). Scrape /metrics per task
# from inside the VPC instead.
resource "aws_lb_listener_rule" "operator_paths_not_public" {
  listener_arn = aws_lb_listener.https.arn
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

# --- certificate (only when no existing certificate_arn is given) -------------------------

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
