import { pino, type Logger } from 'pino';

export type LogFormat = 'json' | 'text';

/**
 * pino, JSON by default. `text` writes one readable line per record (time, level, message, fields) without
 * a worker-thread transport, so it also works when the process is killed abruptly.
 */
export function createLogger(options: { level?: string; format?: LogFormat; name?: string } = {}): Logger {
  const level = options.level ?? 'info';
  const base = { name: options.name ?? 'cloud-provider-localstack' };
  const redact = { paths: ['*.secretAccessKey', '*.accessKeyId', '*.credentials', 'credentials', 'secretAccessKey'], censor: '[redacted]' };
  if (options.format !== 'text') return pino({ level, base, redact });
  const labels: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
  return pino(
    { level, base, redact },
    {
      write(line: string) {
        const { time, level: lvl, msg, name: _name, pid: _pid, hostname: _host, ...fields } = JSON.parse(line) as Record<string, unknown>;
        const extra = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
        process.stderr.write(`${new Date(Number(time)).toISOString()} ${(labels[Number(lvl)] ?? String(lvl)).padEnd(5)} ${String(msg ?? '')}${extra ? ` ${extra}` : ''}\n`);
      },
    },
  );
}
