/**
 * Where a lean request (lean-head.ts, lean-get.ts, lean-put.ts) goes and how it is signed,
 * resolved once per bucket by the SDK itself: endpoint, path or virtual-host style, signing name
 * and region from the SDK's own endpoint rules (`getEndpointFromInstructions`), so custom
 * endpoints, any region and FORCE_PATH_STYLE behave as in the SDK; credentials from the
 * client's provider (static keys, or the SDK default chain with refresh). Anything else
 * (another auth scheme such as S3 Express or SigV4a, extra endpoint headers, an endpoint the
 * rules refuse) is `undefined`: the caller then goes through the SDK.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Sha256 } from '@smithy/core/checksum';
import { getEndpointFromInstructions } from '@smithy/core/endpoints';
import { SignatureV4 } from '@smithy/signature-v4';
import { EMPTY_PAYLOAD_SHA256, encodeKeyPath, escapeUri } from './head-wire.js';

/** Everything a lean request needs that is the same for every key of the bucket. */
export interface SignedEndpoint {
  isHttps: boolean;
  hostname: string;
  port: number | undefined;
  /** The `Host` header, as signed. */
  host: string;
  /** Path before the key: `/<bucket>` (path style) or `` (virtual host). */
  basePath: string;
  signer: SignatureV4;
}

/** Ask the SDK where requests for `bucket`'s objects go (no request is sent). */
export async function resolveSignedEndpoint(
  client: S3Client,
  bucket: string,
): Promise<SignedEndpoint | undefined> {
  const config = client.config;
  // The SDK's endpoint middleware passes a copy too: resolution may memoize into the config.
  const endpoint = await getEndpointFromInstructions(
    { Bucket: bucket, Key: 'k' },
    HeadObjectCommand,
    { ...config },
  );
  const schemes = endpoint.properties?.['authSchemes'];
  const scheme = (Array.isArray(schemes) ? schemes[0] : undefined) as
    { name?: unknown; signingName?: unknown; signingRegion?: unknown } | undefined;
  const url = endpoint.url;
  const isHttps = url.protocol === 'https:';
  if (
    scheme?.name !== 'sigv4' ||
    (endpoint.headers !== undefined && Object.keys(endpoint.headers).length > 0) ||
    (!isHttps && url.protocol !== 'http:') ||
    url.search !== ''
  ) {
    return undefined;
  }
  const region =
    typeof scheme.signingRegion === 'string' ? scheme.signingRegion : await config.region();
  return {
    isHttps,
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? undefined : Number(url.port),
    host: url.host,
    basePath: url.pathname.replace(/\/+$/, ''),
    signer: new SignatureV4({
      service: typeof scheme.signingName === 'string' ? scheme.signingName : 's3',
      region,
      credentials: config.credentials,
      sha256: Sha256,
      // S3 signs the path as sent: no second encoding, no normalization of `.` or `//`.
      uriEscapePath: false,
    }),
  };
}

/** A request for one key, as signKeyRequest signs it. */
export interface KeyRequest {
  method: 'HEAD' | 'GET' | 'PUT';
  key: string;
  /** Query parameters (UploadPart's `partNumber` and `uploadId`). */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /**
   * The signed `x-amz-content-sha256`: the body's SHA-256 in hex, or UNSIGNED-PAYLOAD; default
   * the empty body's.
   */
  payloadHash?: string;
}

/**
 * Sign a request for `key`: its path as sent (query included) and every header to send, `host`
 * and `x-amz-content-sha256` included.
 */
export async function signKeyRequest(
  endpoint: SignedEndpoint,
  request: KeyRequest,
): Promise<{ path: string; headers: Record<string, string> }> {
  const query = request.query ?? {};
  const signed = await endpoint.signer.sign({
    method: request.method,
    protocol: endpoint.isHttps ? 'https:' : 'http:',
    hostname: endpoint.hostname,
    ...(endpoint.port !== undefined ? { port: endpoint.port } : {}),
    path: `${endpoint.basePath}/${encodeKeyPath(request.key)}`,
    query,
    headers: {
      host: endpoint.host,
      'x-amz-content-sha256': request.payloadHash ?? EMPTY_PAYLOAD_SHA256,
      ...request.headers,
    },
  });
  const search = Object.keys(query)
    .sort()
    .map((name) => `${escapeUri(name)}=${escapeUri(query[name] ?? '')}`)
    .join('&');
  return {
    path: search === '' ? signed.path : `${signed.path}?${search}`,
    headers: signed.headers,
  };
}
