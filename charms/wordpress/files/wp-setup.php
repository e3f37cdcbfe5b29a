<?php
/**
 * Run by the wordpress charm's leader with PHP's CLI (Debian ships no wp-cli):
 *
 *   php wp-setup.php install    installs WordPress into the configured database unless it
 *                               already is (tables, options, the administrator)
 *   php wp-setup.php settings   applies the blog settings the charm manages
 *
 * Input comes from the environment (SIGIL_WP_TITLE, SIGIL_WP_TAGLINE, SIGIL_WP_ADMIN_USER,
 * SIGIL_WP_ADMIN_EMAIL, SIGIL_WP_ADMIN_PASSWORD, SIGIL_WP_PUBLIC) so no secret shows in a
 * process list. Prints one line saying what it did; exits non-zero with the reason on error.
 */
$mode = $argv[1] ?? '';
if ($mode !== 'install' && $mode !== 'settings') {
    fwrite(STDERR, "usage: php wp-setup.php install|settings\n");
    exit(2);
}

// Debian's wp-config.php picks /etc/wordpress/config-<host>.php by the request's host;
// "localhost" has none, so config-default.php (the charm's) is used.
$_SERVER['HTTP_HOST'] = 'localhost';
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';

function setting($name) {
    $value = getenv('SIGIL_WP_' . $name);
    return $value === false ? '' : $value;
}

if ($mode === 'install') {
    // As WordPress's own installer (and wp-cli's `core install`) does: load without the
    // "not installed" redirect, and without mailing the administrator (there is no MTA).
    define('WP_INSTALLING', true);
    require '/usr/share/wordpress/wp-load.php';
    function wp_new_blog_notification($blog_title, $blog_url, $user_id, $password) {
    }
    require_once ABSPATH . 'wp-admin/includes/upgrade.php';
    if (is_blog_installed()) {
        echo "already installed\n";
        exit(0);
    }
    $result = wp_install(setting('TITLE'), setting('ADMIN_USER'), setting('ADMIN_EMAIL'), setting('PUBLIC') === '1', '', wp_slash(setting('ADMIN_PASSWORD')));
    if (is_wp_error($result)) {
        fwrite(STDERR, 'wp_install failed: ' . $result->get_error_message() . "\n");
        exit(1);
    }
    // wp_install picks pretty permalinks only if a request it makes to the site itself
    // answers in time, so a busy machine got plain ones (`?feed=rss2`). The charm serves the
    // rewrite rules itself (render.ts), so set WordPress's default structure outright.
    global $wp_rewrite;
    $wp_rewrite->set_permalink_structure('/%year%/%monthnum%/%day%/%postname%/');
    flush_rewrite_rules(false);
    echo 'installed; administrator ' . setting('ADMIN_USER') . "\n";
    exit(0);
}

// Settings: a normal load (not WP_INSTALLING), so update_option also refreshes the shared
// object cache that every unit reads.
require '/usr/share/wordpress/wp-load.php';
update_option('blogname', setting('TITLE'));
update_option('blogdescription', setting('TAGLINE'));
update_option('blog_public', setting('PUBLIC') === '1' ? '1' : '0');
update_option('admin_email', setting('ADMIN_EMAIL'));
$admin = get_user_by('login', setting('ADMIN_USER'));
if ($admin && $admin->user_email !== setting('ADMIN_EMAIL')) {
    $updated = wp_update_user(['ID' => $admin->ID, 'user_email' => setting('ADMIN_EMAIL')]);
    if (is_wp_error($updated)) {
        fwrite(STDERR, 'updating the administrator failed: ' . $updated->get_error_message() . "\n");
        exit(1);
    }
}
echo "settings applied\n";
