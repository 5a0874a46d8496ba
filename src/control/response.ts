/** An answer of the control socket as its clients (the CLI, the dashboard's feed) see it. */
export interface ControlResponse {
  status: number;
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}
