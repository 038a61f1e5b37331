// Entry point for data-plane workers forked by src/controlplane/cluster.ts.
import { runClusterWorker } from './cluster.ts';

runClusterWorker();
