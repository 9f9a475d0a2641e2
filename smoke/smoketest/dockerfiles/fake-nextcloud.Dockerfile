# The fake Nextcloud for the smoke suites: its static binary on an empty
# base image. State stays in memory (no --data-dir).
FROM scratch
COPY fake-nextcloud /fake-nextcloud
USER 65532:65532
ENTRYPOINT ["/fake-nextcloud"]
