# The fake IdP for the smoke suites: its static binary (CGO_ENABLED=0, from
# `make build`) on an empty base image. Classic-builder compatible (no
# BuildKit syntax): testcontainers-go builds it through the Engine API.
FROM scratch
COPY fake-idp /fake-idp
USER 65532:65532
ENTRYPOINT ["/fake-idp"]
