import { packedPackage } from './harness';

/** Builds and packs the package once for every end-to-end file of this jest run. */
export default function globalSetup(): void {
	packedPackage();
}
