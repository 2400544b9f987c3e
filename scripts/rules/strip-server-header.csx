// Response rule: do not tell clients what the servers run.

Response.Headers.Remove("Server");
Response.Headers.Remove("X-Powered-By");
