import emoji
print(emoji.emojize("Python is :thumbs_up: and :red_heart:"))
print(emoji.demojize("Deploy 🚀 done ✅"))
print(emoji.emoji_count("a 👍🏽 b 🇫🇷 c"), [e["emoji"] for e in emoji.emoji_list("x🎉y🐍")])
print(emoji.replace_emoji("rm 🔥 now", replace="[?]"), emoji.is_emoji("🐍"))
