// Size the libuv threadpool before first use (it is process-wide, shared by every worker
// thread's fs reads). An explicit UV_THREADPOOL_SIZE in the environment wins.
process.env.UV_THREADPOOL_SIZE ??= '64';
