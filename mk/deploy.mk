# mk/deploy.mk — AWS deployment (docs/deploy.md) and its offline checks.
#
#   make deploy-check        fmt, validate, terraform test (mocked AWS), HCL checklist, workflow
#                            and script lint, tests of the deploy scripts (tests/deploy/*.t)
#   make docs                render docs/architecture.dot to docs/architecture_aws.png
#
# Against a real AWS account (credentials in the environment), in this order the first time:
#   make deploy-doctor       what is missing in the account, GitHub and here, with the fixes
#   make deploy-bootstrap    the S3 state bucket (versioned, encrypted, private, locked)
#   make deploy-init         terraform init (S3 state from deploy/terraform/backend.hcl)
#   make deploy-ecr          create only the ECR repository (first deployment)
#   make deploy-image-push   build the image (RDS CA bundle in), tag it with the commit SHA,
#                            push it to ECR, check its scan
#   make deploy-plan         terraform plan for that tag
#   make deploy-apply        terraform apply for that tag
#   make deploy-release      run the migration task, then roll the service onto the new revision
#   make deploy-github       the protected GitHub environment and the repository variables for CI
# Day 2:
#   make deploy-rollback TAG=<sha>   run an earlier pushed image again (apply + deploy, no migrate)
#   make deploy-restart      restart the tasks on the current revision
#
# Every Terraform call reads the committed variables file DEPLOY_VAR_FILE, the same one CI
# passes; the stack's name and region for make come from it too.

DEPLOY_TF_DIR ?= deploy/terraform
DEPLOY_VAR_FILE ?= deploy/terraform/env/production.tfvars
DEPLOY_TFVAR = $(DEPLOY_TF_DIR)/scripts/tfvar.sh $(DEPLOY_VAR_FILE)
DEPLOY_NAME ?= $(shell $(DEPLOY_TFVAR) name techchallenge 2>/dev/null)
DEPLOY_REGION ?= $(shell $(DEPLOY_TFVAR) aws_region '' 2>/dev/null)
DEPLOY_PLATFORM ?= $(if $(filter ARM64,$(shell $(DEPLOY_TFVAR) cpu_architecture X86_64 2>/dev/null)),linux/arm64,linux/amd64)
DEPLOY_BACKEND ?= $(if $(wildcard $(DEPLOY_TF_DIR)/backend.hcl),backend.hcl)
DEPLOY_TF_ARGS ?=
TERRAFORM ?= terraform
# Images are tagged with the full commit SHA (tags are immutable in ECR).
DEPLOY_TAG ?= $(shell git rev-parse HEAD 2>/dev/null)
# -chdir makes relative paths relative to the stack: hand Terraform an absolute one.
DEPLOY_VARS = -var-file=$(abspath $(DEPLOY_VAR_FILE)) -var=image_tag=$(DEPLOY_TAG)
# The AWS CLI calls go to the stack's region, whatever the shell says.
DEPLOY_ENV = $(if $(DEPLOY_REGION),AWS_REGION=$(DEPLOY_REGION) AWS_DEFAULT_REGION=$(DEPLOY_REGION)) \
	VAR_FILE=$(abspath $(DEPLOY_VAR_FILE)) TERRAFORM=$(TERRAFORM)
# A tag given on the command line (or environment) is used as is; the default is HEAD's SHA,
# and the build refuses uncommitted changes.
DEPLOY_IMAGE_ENV = $(DEPLOY_ENV) CONTAINER_ENGINE=$(CONTAINER_ENGINE) PLATFORM=$(DEPLOY_PLATFORM) \
	$(if $(filter-out file,$(origin DEPLOY_TAG)),IMAGE_TAG=$(DEPLOY_TAG))

.PHONY: deploy-check docs deploy-doctor deploy-bootstrap deploy-init deploy-ecr \
	deploy-image-push deploy-image-check deploy-plan deploy-apply deploy-release deploy-github \
	deploy-rollback deploy-restart

deploy-check: bootstrap-test
	$(PROVE) $(PROVE_FLAGS) $(sort $(wildcard tests/deploy/*.t))

docs: docs/architecture_aws.png

docs/architecture_aws.png: docs/architecture.dot
	dot -Tpng -Gdpi=110 -o $@ $<

deploy-doctor:
	$(DEPLOY_ENV) CONTAINER_ENGINE=$(CONTAINER_ENGINE) $(DEPLOY_TF_DIR)/scripts/preflight.sh

deploy-bootstrap:
	$(DEPLOY_ENV) $(if $(STATE_BUCKET),STATE_BUCKET=$(STATE_BUCKET)) $(DEPLOY_TF_DIR)/scripts/bootstrap-state.sh

deploy-init:
	$(TERRAFORM) -chdir=$(DEPLOY_TF_DIR) init $(if $(DEPLOY_BACKEND),-backend-config=$(DEPLOY_BACKEND))

deploy-ecr:
	$(TERRAFORM) -chdir=$(DEPLOY_TF_DIR) apply $(DEPLOY_VARS) -target=aws_ecr_repository.app \
		-target=aws_ecr_lifecycle_policy.app $(DEPLOY_TF_ARGS)

deploy-image-push:
	$(DEPLOY_IMAGE_ENV) scripts/image-build.sh ecr $(DEPLOY_NAME)

# No plan or apply names a tag nobody pushed.
deploy-image-check:
	$(DEPLOY_IMAGE_ENV) scripts/image-build.sh check $(DEPLOY_NAME)

deploy-plan: deploy-image-check
	$(TERRAFORM) -chdir=$(DEPLOY_TF_DIR) plan $(DEPLOY_VARS) $(DEPLOY_TF_ARGS)

deploy-apply: deploy-image-check
	$(TERRAFORM) -chdir=$(DEPLOY_TF_DIR) apply $(DEPLOY_VARS) $(DEPLOY_TF_ARGS)

deploy-release:
	$(DEPLOY_ENV) $(DEPLOY_TF_DIR)/scripts/ecs-release.sh release

deploy-github:
	$(DEPLOY_ENV) $(DEPLOY_TF_DIR)/scripts/github-environment.sh all

deploy-restart:
	$(DEPLOY_ENV) $(DEPLOY_TF_DIR)/scripts/ecs-release.sh restart

# An earlier image, on today's infrastructure code: the task definitions are registered again
# for TAG (apply shows the plan and asks first), then the service moves to them. No migration:
# migrations only add, so an older release runs on the newer schema.
deploy-rollback:
	@test -n "$(TAG)" || { echo "usage: make deploy-rollback TAG=<pushed image tag (commit SHA)>" >&2; exit 2; }
	$(MAKE) --no-print-directory deploy-apply DEPLOY_TAG=$(TAG)
	$(DEPLOY_ENV) $(DEPLOY_TF_DIR)/scripts/ecs-release.sh deploy
