// Every HTTP error from every Edgebox service has this body: { error: { code, message } }.

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

export function isErrorBody(x: unknown): x is ErrorBody {
  const e = (x as ErrorBody | null)?.error;
  return typeof e === 'object' && e !== null && typeof e.code === 'string' && typeof e.message === 'string';
}
