// Resources tests create (servers, pools, databases) are released once, after every test file has
// run, by test/preload.ts. Registering bun's afterAll from inside a hook is scoped to that hook, so
// helpers that may be called from beforeAll/beforeEach cannot rely on it.
const tasks: (() => Promise<unknown> | unknown)[] = [];

export function onCleanup(task: () => Promise<unknown> | unknown): void {
  tasks.push(task);
}

export async function runCleanup(): Promise<void> {
  // Last registered first: servers stop before the pools and databases they use go away.
  while (tasks.length > 0) {
    const task = tasks.pop();
    try {
      await task?.();
    } catch {
      // best effort: a failing cleanup must not hide the test results
    }
  }
}
