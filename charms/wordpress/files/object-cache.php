<?php
/**
 * WordPress object cache in memcached, written by the Sigil wordpress charm when a memcached
 * is related on `cache`. Every unit uses the same servers (SIGIL_MEMCACHED_SERVERS, from
 * /etc/wordpress/config-default.php) and key prefix (WP_CACHE_KEY_SALT), so a change one
 * unit caches is what the others read.
 *
 * Without servers or without php-memcached this file defines nothing, and WordPress falls
 * back to its own per-request cache (wp_start_object_cache loads cache.php when this file
 * leaves wp_cache_init undefined). The definitions are conditional for that reason: PHP
 * would bind unconditional top-level functions even after an early `return`.
 */
if (defined('SIGIL_MEMCACHED_SERVERS') && SIGIL_MEMCACHED_SERVERS !== '' && class_exists('Memcached')) :

class Sigil_Memcached_Object_Cache {
    public $cache_hits = 0;
    public $cache_misses = 0;
    private $mc;
    private $local = [];
    private $global_groups = [];
    private $non_persistent = [];
    private $blog_id = 1;
    private $salt;

    public function __construct($servers, $salt) {
        $this->salt = $salt;
        // A persistent connection per Apache child, named after the server list so a new
        // list gets new connections.
        $this->mc = new Memcached('sigil-' . md5($servers));
        if (count($this->mc->getServerList()) === 0) {
            $this->mc->setOption(Memcached::OPT_LIBKETAMA_COMPATIBLE, true);
            $this->mc->setOption(Memcached::OPT_CONNECT_TIMEOUT, 500);
            $this->mc->setOption(Memcached::OPT_RETRY_TIMEOUT, 2);
            $list = [];
            foreach (explode(',', $servers) as $s) {
                $i = strrpos($s, ':');
                $list[] = [substr($s, 0, $i), (int) substr($s, $i + 1)];
            }
            $this->mc->addServers($list);
        }
        if (function_exists('is_multisite') && is_multisite()) $this->blog_id = get_current_blog_id();
    }

    private function id($key, $group) {
        $group = $group === '' ? 'default' : $group;
        $scope = isset($this->global_groups[$group]) ? 'g' : (string) $this->blog_id;
        $id = $this->salt . ':' . $scope . ':' . $group . ':' . $key;
        // memcached keys: at most 250 bytes, no spaces or control characters.
        return (strlen($id) > 200 || preg_match('/[\s\x00-\x1f\x7f]/', $id)) ? $this->salt . ':h:' . md5($id) : $id;
    }

    private function persistent($group) {
        return !isset($this->non_persistent[$group === '' ? 'default' : $group]);
    }

    private static function copy($data) {
        return is_object($data) ? clone $data : $data;
    }

    private static function ttl($expire) {
        $expire = (int) $expire;
        // memcached reads more than 30 days as a Unix time.
        return $expire > 2592000 ? time() + $expire : max(0, $expire);
    }

    public function get($key, $group = 'default', $force = false, &$found = null) {
        $id = $this->id($key, $group);
        if (!$force && array_key_exists($id, $this->local)) {
            $found = true;
            $this->cache_hits++;
            return self::copy($this->local[$id]);
        }
        if ($this->persistent($group)) {
            $value = $this->mc->get($id);
            if ($this->mc->getResultCode() === Memcached::RES_SUCCESS) {
                $this->local[$id] = $value;
                $found = true;
                $this->cache_hits++;
                return self::copy($value);
            }
        }
        $found = false;
        $this->cache_misses++;
        return false;
    }

    public function set($key, $data, $group = 'default', $expire = 0) {
        $id = $this->id($key, $group);
        $this->local[$id] = self::copy($data);
        return $this->persistent($group) ? $this->mc->set($id, $data, self::ttl($expire)) : true;
    }

    public function add($key, $data, $group = 'default', $expire = 0) {
        if (function_exists('wp_suspend_cache_addition') && wp_suspend_cache_addition()) return false;
        $id = $this->id($key, $group);
        if (array_key_exists($id, $this->local)) return false;
        if ($this->persistent($group) && !$this->mc->add($id, $data, self::ttl($expire))) return false;
        $this->local[$id] = self::copy($data);
        return true;
    }

    public function replace($key, $data, $group = 'default', $expire = 0) {
        $found = false;
        $this->get($key, $group, false, $found);
        return $found ? $this->set($key, $data, $group, $expire) : false;
    }

    public function delete($key, $group = 'default') {
        $id = $this->id($key, $group);
        $had = array_key_exists($id, $this->local);
        unset($this->local[$id]);
        return $this->persistent($group) ? $this->mc->delete($id) || $had : $had;
    }

    public function incr($key, $offset = 1, $group = 'default') {
        $found = false;
        $value = $this->get($key, $group, true, $found);
        if (!$found) return false;
        $value = max(0, (is_numeric($value) ? (int) $value : 0) + (int) $offset);
        $this->set($key, $value, $group);
        return $value;
    }

    public function decr($key, $offset = 1, $group = 'default') {
        return $this->incr($key, -(int) $offset, $group);
    }

    public function flush() {
        $this->local = [];
        return $this->mc->flush();
    }

    public function flush_runtime() {
        $this->local = [];
        return true;
    }

    public function add_global_groups($groups) {
        foreach ((array) $groups as $g) $this->global_groups[$g] = true;
    }

    public function add_non_persistent_groups($groups) {
        foreach ((array) $groups as $g) $this->non_persistent[$g] = true;
    }

    public function switch_to_blog($blog_id) {
        $this->blog_id = (int) $blog_id;
    }

    public function close() {
        return true;
    }
}

function wp_cache_init() {
    $GLOBALS['wp_object_cache'] = new Sigil_Memcached_Object_Cache(SIGIL_MEMCACHED_SERVERS, defined('WP_CACHE_KEY_SALT') ? WP_CACHE_KEY_SALT : 'wp');
}
function wp_cache_get($key, $group = '', $force = false, &$found = null) {
    return $GLOBALS['wp_object_cache']->get($key, $group, $force, $found);
}
function wp_cache_set($key, $data, $group = '', $expire = 0) {
    return $GLOBALS['wp_object_cache']->set($key, $data, $group, $expire);
}
function wp_cache_add($key, $data, $group = '', $expire = 0) {
    return $GLOBALS['wp_object_cache']->add($key, $data, $group, $expire);
}
function wp_cache_replace($key, $data, $group = '', $expire = 0) {
    return $GLOBALS['wp_object_cache']->replace($key, $data, $group, $expire);
}
function wp_cache_delete($key, $group = '') {
    return $GLOBALS['wp_object_cache']->delete($key, $group);
}
function wp_cache_incr($key, $offset = 1, $group = '') {
    return $GLOBALS['wp_object_cache']->incr($key, $offset, $group);
}
function wp_cache_decr($key, $offset = 1, $group = '') {
    return $GLOBALS['wp_object_cache']->decr($key, $offset, $group);
}
function wp_cache_flush() {
    return $GLOBALS['wp_object_cache']->flush();
}
function wp_cache_flush_runtime() {
    return $GLOBALS['wp_object_cache']->flush_runtime();
}
function wp_cache_close() {
    return $GLOBALS['wp_object_cache']->close();
}
function wp_cache_add_global_groups($groups) {
    $GLOBALS['wp_object_cache']->add_global_groups($groups);
}
function wp_cache_add_non_persistent_groups($groups) {
    $GLOBALS['wp_object_cache']->add_non_persistent_groups($groups);
}
function wp_cache_switch_to_blog($blog_id) {
    $GLOBALS['wp_object_cache']->switch_to_blog($blog_id);
}
function wp_cache_reset() {
    $GLOBALS['wp_object_cache']->flush_runtime();
}

endif;
