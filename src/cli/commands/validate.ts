import type { Command } from 'commander';

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('Check a config file; prints every problem with file:line:column and key path')
    .requiredOption('-c, --config <file>', 'cutover.yaml')
    .action(async (flags: { config: string }) => {
      // Loaded on use: the schema and its YAML parser are most of the CLI's start-up time.
      const { loadConfigFile } = await import('../../config/load.ts');
      const config = loadConfigFile(flags.config);
      const modes = config.routes.map((r) => `${r.id}=${r.mode ?? config.defaults.mode}`).join(', ');
      process.stdout.write(
        `${flags.config}: valid (${config.routes.length} route${config.routes.length === 1 ? '' : 's'}${modes ? `: ${modes}` : ''}; default ${config.defaults.mode}; listen ${config.listen}; admin ${config.admin.listen})\n`,
      );
    });
}
