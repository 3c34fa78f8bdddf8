// Package store is dplug's local plugin store: the plugins installed on this
// machine, laid out like the Docker managed-plugin docs describe.
//
//	ROOT/plugins/                     0700
//	ROOT/plugins/plugins.json         inventory: id -> name, tag, enabled, config, settings
//	ROOT/plugins/plugins.json.bak     the inventory's previous generation
//	ROOT/plugins/plugins.lock         flock serialising every change
//	ROOT/plugins/<id>/config.json     the plugin config, 0444 (read-only after install)
//	ROOT/plugins/<id>/plugin-settings.json  current Env/Args/Mounts/Devices, 0600
//	ROOT/plugins/<id>/rootfs/         the extracted rootfs
//	ROOT/plugins/tmp/                 work area: installs in progress, removals, temp files
//	ROOT/plugins/lost+found/          dirs Doctor could not account for, moved aside
//
// IDs are 64 random hex digits, like dockerd's (a content digest would make
// two aliases of the same plugin collide), shown as 12. Names follow Docker's
// reference rules ([registry/]repo/name[:tag], ":latest" by default) and are
// stored in their familiar form with the tag kept separately.
//
// The inventory is the source of truth and is always written last: every
// change builds its files under tmp/ (rootfs extracted through package
// archive, files fsynced, then the filesystem synced), renames them into
// place, and then atomically replaces plugins.json (temp file + fsync +
// rename + directory fsync) while holding the store lock. A process killed
// at any moment therefore leaves the store either before or after the
// change; what it may leave behind is a directory under tmp/ (removed by
// Open when the store is idle, and by Doctor) or a plugin directory the
// inventory does not list (an "orphan", never shown as a plugin, handled by
// Doctor, which deletes it if plugins.json.bak shows the last change removed
// it and otherwise moves it to lost+found/: Doctor deletes no plugin dir it
// cannot account for).
//
// The inventory is decoded strictly (see InventoryError): a damaged one is
// an error, never an empty store, and Doctor(true) rebuilds it from the
// plugin dirs, which hold each plugin's config and settings, and from
// plugins.json.bak for names and enabled state. Paths made from the
// inventory go through internal/safepath, so no stored value names a path
// outside ROOT/plugins.
//
// Enable and Disable only flip the inventory flag: there is no daemon.
// Package run starts an installed plugin (store.Open + Get).
package store
