/**
 * `cutover run -c FILE` minus the comparison feature, for bench/shadow.sh:
 * the same data plane mirrors and captures, but no comparer subscribes, so
 * the difference to a normal run is what comparison itself costs.
 *
 *   node bench/run-without-comparison.ts FILE
 */
import { loadConfigFile } from '../src/config/load.ts';
import { createComparisonFeature } from '../src/controlplane/comparison/comparison-feature.ts';
import { defaultFeatures } from '../src/controlplane/features.ts';
import { startCutover } from '../src/controlplane/runtime.ts';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: node bench/run-without-comparison.ts FILE\n');
  process.exit(2);
}
await startCutover({ config: loadConfigFile(file), configPath: file, features: defaultFeatures.filter((f) => f !== createComparisonFeature), handleSignals: true });
