# ALB access logs, so one request can be followed from the load balancer (its X-Amzn-Trace-Id
# is in each log line, and the app logs the same id) to the task. Kept in a private S3 bucket of
# this stack: public access blocked, owner-enforced objects, encrypted (SSE-S3, the only
# encryption ELB log delivery supports), TLS-only access, and deleted after
# alb_access_log_retention_days by a lifecycle rule. Only ELB log delivery may write, and only
# under this account's prefix. With deletion_protection off the bucket may be destroyed with
# its logs.

locals {
  # Regions opened before August 2022 deliver ALB logs as a regional ELB account (the data source
  # knows its id, and fails for any other region); newer regions as the log-delivery service.
  elb_account_regions = [
    "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ca-central-1", "eu-central-1", "eu-north-1",
    "eu-south-1", "eu-west-1", "eu-west-2", "eu-west-3", "me-south-1", "sa-east-1", "us-east-1",
    "us-east-2", "us-gov-east-1", "us-gov-west-1", "us-west-1", "us-west-2",
  ]
  elb_log_writers = concat(
    [for a in data.aws_elb_service_account.current[*].arn : { AWS = a }],
    [{ Service = "logdelivery.elasticloadbalancing.amazonaws.com" }],
  )
}

data "aws_elb_service_account" "current" {
  count = contains(local.elb_account_regions, var.aws_region) ? 1 : 0
}

resource "aws_s3_bucket" "alb_logs" {
  bucket        = "${var.name}-alb-logs-${local.account_id}-${var.aws_region}"
  force_destroy = !var.deletion_protection
}

resource "aws_s3_bucket_public_access_block" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.alb_access_log_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id

  # The ELB log writers of the region may put objects under this account's prefix, nothing else.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      for i, writer in local.elb_log_writers : {
        Sid       = "ElbLogDelivery${i}"
        Effect    = "Allow"
        Principal = writer
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.alb_logs.arn}/alb/AWSLogs/${local.account_id}/*"
      }
      ], [
      {
        Sid       = "TlsOnly"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.alb_logs.arn, "${aws_s3_bucket.alb_logs.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ])
  })

  depends_on = [aws_s3_bucket_public_access_block.alb_logs]
}
