# The release image (.github/workflows/release.yml): the static binary
# that workflow built for the platform, on distroless's static base (CA
# certificates for TLS to AWS, a nonroot user, nothing else).
FROM gcr.io/distroless/static-debian12:nonroot
ARG TARGETARCH
COPY image/${TARGETARCH}/baseline /usr/local/bin/baseline
ENTRYPOINT ["/usr/local/bin/baseline"]
