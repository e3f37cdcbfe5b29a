import { connect } from 'node:net';
import { aptInstall, sh } from '@sigil/charm-sdk';

export interface Credentials {
  host: string;
  port: string;
  user: string;
  password: string;
  database: string;
}

/** What the client does on its machine: install clients and talk to the datastores. */
export interface Workload {
  installClient(endpoint: 'db' | 'mysql' | 'redis'): Promise<void>;
  sql(endpoint: 'db' | 'mysql', c: Credentials, sql: string): Promise<string>;
  memcached(host: string, port: number, request: string): Promise<string>;
  redis(host: string, port: string, password: string, args: string[]): Promise<string>;
}

const CLIENT_PACKAGES = { db: 'postgresql-client', mysql: 'mariadb-client', redis: 'redis-tools' } as const;

export class MachineWorkload implements Workload {
  async installClient(endpoint: 'db' | 'mysql' | 'redis') {
    await aptInstall([CLIENT_PACKAGES[endpoint]]);
  }

  sql(endpoint: 'db' | 'mysql', c: Credentials, sql: string) {
    if (endpoint === 'db') {
      return sh(['psql', '-h', c.host, '-p', c.port || '5432', '-U', c.user, '-d', c.database, '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], { env: { PGPASSWORD: c.password, PGCONNECT_TIMEOUT: '10' } });
    }
    return sh(['mariadb', '-h', c.host, '-P', c.port || '3306', '-u', c.user, ...(c.database ? ['-D', c.database] : []), '-N', '-B', '--connect-timeout=10', '-e', sql], { env: { MYSQL_PWD: c.password } });
  }

  memcached(host: string, port: number, request: string) {
    return new Promise<string>((resolve, reject) => {
      const s = connect({ host, port }, () => s.end(request));
      let out = '';
      s.on('data', (d) => (out += String(d)));
      s.on('end', () => resolve(out));
      s.on('error', reject);
      s.setTimeout(10_000, () => s.destroy(new Error(`memcached at ${host}:${port} did not answer in 10 s`)));
    });
  }

  redis(host: string, port: string, password: string, args: string[]) {
    return sh(['redis-cli', '-h', host, '-p', port || '6379', ...(password ? ['-a', password, '--no-auth-warning'] : []), ...args], { timeoutMs: 10_000 });
  }
}
