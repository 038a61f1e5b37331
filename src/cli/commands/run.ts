import type { Command } from 'commander';
import type { RunFlags } from '../run-config.ts';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('Start the proxy and its admin API')
    .option('-c, --config <file>', 'cutover.yaml')
    .option('--legacy <url>', 'legacy backend URL')
    .option('--candidate <url>', 'candidate (rewrite) backend URL')
    .option('--replica <url>', 'a second legacy instance, for noise detection')
    .option('--listen <host:port>', 'proxy listener (default 127.0.0.1:8080)')
    .option('--admin <host:port>', 'admin API listener (default 127.0.0.1:9090)')
    .option('--data-dir <dir>', 'state directory (default ./.cutover)')
    .option('--workers <n|auto>', 'data-plane processes (default 1)')
    .option('--tls-cert <file>', 'PEM certificate chain: the proxy listener serves HTTPS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .action(async (flags: RunFlags) => {
      const { configFromFlags } = await import('../run-config.ts');
      const config = configFromFlags(flags);
      // Loaded here, not at the top: every other command (set, rollback, status) would pay for the whole runtime at start.
      const [{ startCutover }, { defaultFeatures }] = await Promise.all([import('../../controlplane/runtime.ts'), import('../../controlplane/features.ts')]);
      // A reload re-reads the file and applies the same flags again, so --legacy, --listen… survive SIGHUP.
      await startCutover({ config, configPath: flags.config, loadConfig: () => configFromFlags(flags), features: defaultFeatures, handleSignals: true });
    });
}
