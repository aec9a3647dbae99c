/** The one error shape every HTTP API returns (ARCHITECTURE §5). */
export interface ApiErrorDetail {
  /** Path of the offending field, e.g. `properties.revenue` or `batch[3].userId`. */
  field: string;
  problem: string;
}

export interface ApiErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details: ApiErrorDetail[];
}
