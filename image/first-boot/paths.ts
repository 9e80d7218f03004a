// Where things are on the box. One place, so the first-boot, turn-up, console and update programs
// agree; EDGEBOX_IMAGE_ROOT prefixes them all (tests run the programs against a temp tree).

import { join } from 'node:path';

const root = process.env.EDGEBOX_IMAGE_ROOT ?? '/';
const at = (p: string) => join(root, p);

export const PATHS = {
  /** the EFI partition (boot loaders, each slot's kernel, the unattended edgebox.json) */
  esp: at('boot/efi'),
  unattended: at('boot/efi/edgebox.json'),
  smokeFlag: at('boot/efi/edgebox/smoke'),
  /** the data partition: survives updates */
  data: at('data'),
  siteConfig: at('data/edgebox/site.json'),
  secrets: at('data/edgebox/secrets.json'),
  turnupLast: at('data/edgebox/turnup.json'),
  updateState: at('data/edgebox/update-state.json'),
  updateDownloads: at('data/edgebox/downloads'),
  store: at('data/store'),
  state: at('data/state'),
  /** this boot's rendered config and status */
  run: at('run/edgebox'),
  applianceConfig: at('run/edgebox/appliance.json'),
  resolvConf: at('run/edgebox/resolv.conf'),
  chronySources: at('run/edgebox/chrony/edgebox.sources'),
  network: at('run/systemd/network/10-edgebox.network'),
  /** the serving interface setup resolved ("auto" → a name) */
  iface: at('run/edgebox/interface'),
  turnupNow: at('run/edgebox/turnup.json'),
  updateNow: at('run/edgebox/update.json'),
  /** baked into the image */
  version: at('usr/lib/edgebox/version'),
  imageKeys: at('usr/lib/edgebox/image-keys.json'),
};

export const ADMIN_LISTEN = '127.0.0.1:8081';
export const DAEMON_USER = 'edgebox';
