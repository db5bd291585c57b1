// nuzantara-proxy: api.nuzantara.com in front of the Fly backends. /rag and /rag/* go to Backend-RAG
// (env.BACKEND_RAG_URL), everything else to Backend-TS (env.BACKEND_TS_URL), path and query unchanged. Every
// response carries the guide's security headers (Security > Security Headers).
//
// The guide's snippet calls fetch(request) and sets headers on the response it gets back; that fetch goes to the
// route's own origin, and a fetched response's headers are immutable in Workers. So the request is re-addressed to
// a backend and the response copied before its headers are set.

const securityHeaders = {
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/** The backend base URL for a path: Backend-RAG for /rag and below, Backend-TS for the rest. */
export function backendFor(pathname, env) {
  return pathname === "/rag" || pathname.startsWith("/rag/") ? env.BACKEND_RAG_URL : env.BACKEND_TS_URL;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    // Path and query set on the backend's URL: resolving them against it would read `//host/…` as another host.
    const target = new URL(backendFor(url.pathname, env));
    target.pathname = url.pathname;
    target.search = url.search;
    const upstream = await fetch(new Request(target, request));
    const response = new Response(upstream.body, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: new Headers(upstream.headers),
    });
    for (const [name, value] of Object.entries(securityHeaders)) response.headers.set(name, value);
    return response;
  },
};
