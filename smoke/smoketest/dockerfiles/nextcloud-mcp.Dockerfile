# The MCP server for the smoke suites: its static binary on an empty base
# image, run as an unprivileged user. /data holds the token database of
# progressive consent (TOKEN_STORAGE_DB=/data/tokens.db); /tmp is SQLite's
# scratch space. Both directories come from the build context, so no RUN
# step (and no shell) is needed.
FROM scratch
COPY nextcloud-mcp /nextcloud-mcp
COPY --chown=65532:65532 data /data
COPY tmp /tmp
ENV TMPDIR=/tmp
WORKDIR /data
USER 65532:65532
ENTRYPOINT ["/nextcloud-mcp"]
CMD ["serve"]
